import { SERVE_DEFAULT_PORT, TOKEN_ENV, extractServeFlag, gatewayOptionsFromArgs } from './args';

describe('gateway command-line options', () => {
  test.each([
    [['replay', 'x.mp4'], ['replay', 'x.mp4'], undefined],
    [['replay', '--serve', 'x.mp4'], ['replay', 'x.mp4'], SERVE_DEFAULT_PORT],
    [['replay', '--serve', '9000', 'x.mp4'], ['replay', 'x.mp4'], 9000],
    [['replay', 'x.mp4', '--serve=0'], ['replay', 'x.mp4'], 0],
    [['replay', 'x.mp4', '--serve'], ['replay', 'x.mp4'], SERVE_DEFAULT_PORT],
  ])('%j → argv %j, port %p', (argv, rest, port) => {
    expect(extractServeFlag(argv)).toEqual({ argv: rest, port });
  });

  test('a --serve port that is not a number is a usage error', () => {
    expect(() => extractServeFlag(['--serve=abc'])).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_USAGE' }));
  });

  test('flags become gateway options; the token may come from the environment', () => {
    const hosts = { 'public-url': 'https://ground.example', 'allowed-hosts': 'map.lan, 10.0.0.7', 'max-connections-per-address': '16' };
    expect(gatewayOptionsFromArgs({ origins: 'http://a, http://b', 'max-clients': '7', 'heartbeat-ms': '250', ...hosts }, {})).toMatchObject({
      publicUrl: 'https://ground.example',
      allowedHosts: ['map.lan', '10.0.0.7'],
      allowedOrigins: ['http://a', 'http://b'],
      maxClients: 7,
      maxConnectionsPerAddress: 16,
      heartbeatIntervalMs: 250,
      token: undefined,
    });
    expect(gatewayOptionsFromArgs({}, { [TOKEN_ENV]: 'from-env' }).token).toBe('from-env');
    expect(gatewayOptionsFromArgs({ token: 'flag' }, { [TOKEN_ENV]: 'from-env' }).token).toBe('flag');
    expect(() => gatewayOptionsFromArgs({ 'hard-limit': '1.5' }, {})).toThrow(expect.objectContaining({ code: 'GEOLOC_ERR_USAGE' }));
  });
});
