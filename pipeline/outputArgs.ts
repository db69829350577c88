/**
 * The fix outputs a localizing command takes on its command line: a flag per format (--nmea, …)
 * naming its targets (repeatable), a rate flag per format (--nmea-rate), the format's own flags,
 * and the limits every output shares; opened as OutputSinks on a thread of their own, and reported
 * when the run ends.
 */
import { GeolocError } from './core/errors';
import type { Logger } from './core/log';
import { integerOption, numberOption } from './core/options';
import type { FixFeature, OutputStats } from './core/types';
import { cotFormat, DEFAULT_COT_OPTIONS } from './sinks/cot';
import { DEFAULT_MAVLINK_OPTIONS, mavlinkFormat } from './sinks/mavlink';
import { NMEA_DEFAULTS, nmeaFormat } from './sinks/nmea';
import type { OutputFormat } from './sinks/outputFormat';
import { OUTPUT_SINK_DEFAULTS, type OutputSinkOptions, resolveOutputSinkOptions } from './sinks/outputSink';
import { parseOutputTarget, transportFor } from './sinks/outputTarget';
import type { Transport } from './sinks/transport';
import { NO_OUTPUTS, type Outputs, OutputsThread } from './outputsThread';

export type ArgValues = Record<string, string | string[] | boolean | undefined>;

/** One output format as the command line offers it. */
interface OutputKind {
  /** the flag that names its targets (--nmea) and the format's name */
  name: string;
  /** what it sends, for the usage text */
  sends: string;
  /** a text format: a file gets one message a line */
  text: boolean;
  /** its own flags beyond --<name> and --<name>-rate: flag → its value's name and what it does */
  flags?: Record<string, { value: string; usage: string }>;
  create(values: ArgValues): OutputFormat;
}

/** Every output format of the CLI: adding one is adding its entry. */
const OUTPUT_KINDS: readonly OutputKind[] = [
  {
    name: 'nmea',
    sends: 'NMEA 0183 (GSA RMC VTG GST GGA)',
    text: true,
    flags: {
      'nmea-talker': { value: 'id', usage: `talker ID (default ${NMEA_DEFAULTS.talker})` },
      'nmea-satellites': { value: 'n', usage: `GGA's satellites in use, a nominal count consumers gate on (default ${NMEA_DEFAULTS.satellites})` },
    },
    create: (values) => nmeaFormat({ talker: values['nmea-talker'] as string | undefined, satellites: integerOption('nmea-satellites', values['nmea-satellites'], undefined) }),
  },
  {
    name: 'mavlink',
    sends: 'MAVLink 2 GPS_INPUT (and a 1 Hz HEARTBEAT)',
    text: false,
    flags: {
      'mavlink-system-id': { value: 'id', usage: `our system id, the vehicle's (default ${DEFAULT_MAVLINK_OPTIONS.systemId})` },
      'mavlink-component-id': { value: 'id', usage: `our component id (default ${DEFAULT_MAVLINK_OPTIONS.componentId}, MAV_COMP_ID_GPS)` },
    },
    create: (values) =>
      mavlinkFormat({
        systemId: integerOption('mavlink-system-id', values['mavlink-system-id'], undefined),
        componentId: integerOption('mavlink-component-id', values['mavlink-component-id'], undefined),
      }),
  },
  {
    name: 'cot',
    sends: 'Cursor-on-Target events',
    text: true,
    flags: {
      'cot-type': { value: 'type', usage: `CoT event type (default ${DEFAULT_COT_OPTIONS.type}, a friendly air track)` },
      'cot-uid': { value: 'uid', usage: 'event uid (default geoloc-<flight>)' },
      'cot-callsign': { value: 'name', usage: 'callsign TAK shows (default the flight name)' },
      'cot-stale': { value: 's', usage: `seconds until a fix is stale (default ${DEFAULT_COT_OPTIONS.staleSeconds})` },
    },
    create: (values) =>
      cotFormat({
        type: values['cot-type'] as string | undefined,
        uid: values['cot-uid'] as string | undefined,
        callsign: values['cot-callsign'] as string | undefined,
        staleSeconds: numberOption('cot-stale', values['cot-stale'], undefined),
      }),
  },
];

/** the output flags' names (--nmea, …), for the benchmark that turns every output on */
export const OUTPUT_NAMES: readonly string[] = OUTPUT_KINDS.map((kind) => kind.name);

const stringFlag = { type: 'string' } as const;

/** parseArgs definitions of the output flags. */
export const OUTPUT_ARG_OPTIONS: Record<string, { type: 'string'; multiple?: true }> = {
  ...Object.fromEntries(
    OUTPUT_KINDS.flatMap((kind) => [
      [kind.name, { type: 'string', multiple: true }],
      [`${kind.name}-rate`, stringFlag],
      ...Object.keys(kind.flags ?? {}).map((flag) => [flag, stringFlag]),
    ]),
  ),
  'output-start': stringFlag,
  'output-queue': stringFlag,
  'output-max-buffered': stringFlag,
};

/** the flag column of the usage text, as wide as the gateway's */
const FLAG_COLUMN = 24;
const line = (flag: string, value: string, usage: string) => `  ${`--${flag} <${value}>`.padEnd(FLAG_COLUMN)} ${usage}`;

export const OUTPUT_ARGS_USAGE = [
  ...OUTPUT_KINDS.flatMap((kind) => [
    line(kind.name, 'target', `${kind.sends} to udp://host:port, tcp://host:port or a file; repeatable`),
    line(`${kind.name}-rate`, 'hz', `${kind.name} fixes per second of flight time at most (default ${OUTPUT_SINK_DEFAULTS.maxRateHz})`),
    ...Object.entries(kind.flags ?? {}).map(([flag, { value, usage }]) => line(flag, value, usage)),
  ]),
  line('output-start', 'utc', 'ISO-8601 UTC of the first frame: outputs stamp a fix with it + t (default: the clock)'),
  line('output-queue', 'n', `messages an output keeps while its consumer is away, oldest dropped first (default ${OUTPUT_SINK_DEFAULTS.maxQueuedMessages})`),
  line('output-max-buffered', 'B', `bytes a TCP consumer may leave unread before it is cut off (default ${OUTPUT_SINK_DEFAULTS.maxBufferedBytes})`),
  '',
].join('\n');

const MS_PER_S = 1000;
/** a date, a time and a zone (Z or ±hh:mm): without a zone Date.parse would read local time */
const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;

/** The fix's time as the start time plus its `t`. */
function startPlusT(text: string): (feature: FixFeature) => Date {
  const startMs = Date.parse(text);
  if (!ISO_INSTANT.test(text) || Number.isNaN(startMs)) throw new GeolocError('GEOLOC_ERR_USAGE', `--output-start must be an ISO-8601 time with its zone, such as 2024-05-01T09:30:00Z, got ${JSON.stringify(text)}`);
  return (feature) => new Date(startMs + feature.properties.t * MS_PER_S);
}

/** One output as the flags name it, checked but not opened. */
export interface PlannedOutput {
  name: string;
  format: OutputFormat;
  transport: Transport;
  options: OutputSinkOptions;
}

/**
 * The outputs the flags name, each checked: a bad target or option (GEOLOC_ERR_OUTPUT_URL,
 * _OPTIONS, _USAGE) throws before anything opens. `clock`: a fix's time without --output-start
 * (default: the wall clock when the output takes it).
 */
export function planOutputs(values: ArgValues, logger: Logger, clock?: (feature: FixFeature) => Date): PlannedOutput[] {
  const fixTime = typeof values['output-start'] === 'string' ? startPlusT(values['output-start']) : clock;
  const maxQueuedMessages = integerOption('output-queue', values['output-queue'], undefined);
  const maxBufferedBytes = integerOption('output-max-buffered', values['output-max-buffered'], undefined);
  return OUTPUT_KINDS.flatMap((kind) => {
    const targets = (values[kind.name] as string[] | undefined) ?? [];
    if (targets.length === 0) return [];
    const maxRateHz = numberOption(`${kind.name}-rate`, values[`${kind.name}-rate`], undefined);
    return targets.map((text, i) => ({
      name: targets.length > 1 ? `${kind.name}#${i + 1}` : kind.name,
      format: kind.create(values),
      transport: transportFor(parseOutputTarget(text), { lines: kind.text }),
      options: resolveOutputSinkOptions({ maxRateHz, maxQueuedMessages, maxBufferedBytes, fixTime, logger }),
    }));
  });
}

/**
 * The outputs the flags name, checked here (a bad one throws and opens nothing), then opened on
 * a thread of their own (outputsThread.ts): the pipeline only hands each fix over.
 */
export function openOutputs(values: ArgValues, logger: Logger): Outputs {
  const planned = planOutputs(values, logger);
  // the thread checks and opens them again from the output flags alone (a fix's time: the hand-over's)
  const outputValues = Object.fromEntries(Object.keys(OUTPUT_ARG_OPTIONS).flatMap((flag) => (values[flag] === undefined ? [] : [[flag, values[flag]]])));
  return planned.length === 0 ? NO_OUTPUTS : new OutputsThread(outputValues, planned.map(({ name, transport }) => ({ name, target: transport.target })), logger);
}

/** What each output did, for the run's last log line and the replay report. */
export type OutputsReport = Record<string, Pick<OutputStats, 'target' | 'sent' | 'dropped' | 'errors' | 'cutOffs'>>;

export function outputsReport(outputs: Outputs): OutputsReport {
  return Object.fromEntries(outputs.stats().map(({ name, target, sent, dropped, errors, cutOffs }) => [name, { target, sent, dropped, errors, cutOffs }]));
}
