import { createHostPolicy, type HostSettings } from './hosts';

const PORT = 8080;
const policy = (settings: Partial<HostSettings>) => createHostPolicy({ host: '127.0.0.1', allowedHosts: [], ...settings }, () => PORT);

describe('the Host names a gateway answers to', () => {
  test.each([
    ['127.0.0.1', '127.0.0.1:8080', true],
    ['127.0.0.1', 'localhost:8080', true],
    ['127.0.0.1', 'LocalHost', true],
    ['127.0.0.1', '[::1]:8080', true],
    ['127.0.0.1', 'attacker.example:8080', false],
    ['127.0.0.1', 'localhost.attacker.example:8080', false],
    ['127.0.0.1', '192.168.1.5:8080', false],
    ['127.0.0.1', 'localhost:8080@attacker.example', false],
    ['127.0.0.1', 'attacker.example/localhost', false],
    ['127.0.0.1', '', false],
    ['::1', '[::1]:8080', true],
    ['::1', 'localhost:8080', true],
    ['0.0.0.0', 'localhost:8080', true],
    ['0.0.0.0', '192.168.1.5:8080', true],
    ['0.0.0.0', '[fd00::7]:8080', true],
    ['0.0.0.0', 'attacker.example:8080', false],
    ['192.168.1.5', '192.168.1.5:8080', true],
    ['192.168.1.5', '10.0.0.1:8080', false],
    ['192.168.1.5', 'localhost:8080', false],
    ['ground.lan', 'ground.lan:8080', true],
  ])('listening on %s, Host %j: %p', (host, header, allowed) => {
    expect(policy({ host }).allowsHost(header)).toBe(allowed);
  });

  test('a request without a Host header is refused', () => {
    expect(policy({}).allowsHost(undefined)).toBe(false);
  });

  test('publicUrl and allowedHosts add names; * allows any', () => {
    const told = policy({ publicUrl: 'https://Ground.Example/map', allowedHosts: ['map.lan'] });
    expect(told.allowsHost('ground.example')).toBe(true);
    expect(told.allowsHost('map.lan:8080')).toBe(true);
    expect(told.allowsHost('attacker.example')).toBe(false);
    expect(policy({ allowedHosts: ['*'] }).allowsHost('attacker.example')).toBe(true);
  });
});

describe('the origins that may open a WebSocket', () => {
  test('by default, the allowed hosts at the gateway\'s port, over http or https', () => {
    const p = policy({});
    expect(p.allowsOrigin('http://127.0.0.1:8080')).toBe(true);
    expect(p.allowsOrigin('http://localhost:8080')).toBe(true);
    expect(p.allowsOrigin('https://[::1]:8080')).toBe(true);
    expect(p.allowsOrigin('http://localhost:3000')).toBe(false); // another local application
    expect(p.allowsOrigin('http://attacker.example:8080')).toBe(false);
    expect(p.allowsOrigin('null')).toBe(false);
    expect(p.allowsOrigin('file://')).toBe(false);
  });

  test('publicUrl\'s origin, at its own port', () => {
    const p = policy({ publicUrl: 'https://ground.example' });
    expect(p.allowsOrigin('https://ground.example')).toBe(true);
    expect(p.allowsOrigin('http://ground.example')).toBe(false);
    expect(p.allowsOrigin('https://ground.example.attacker.example')).toBe(false);
  });

  test('an allowedOrigins list replaces the default; * allows any', () => {
    const p = policy({ allowedOrigins: ['https://ops.example'] });
    expect(p.allowsOrigin('https://ops.example')).toBe(true);
    expect(p.allowsOrigin('http://127.0.0.1:8080')).toBe(false);
    expect(policy({ allowedOrigins: ['*'] }).allowsOrigin('https://anything.example')).toBe(true);
  });
});
