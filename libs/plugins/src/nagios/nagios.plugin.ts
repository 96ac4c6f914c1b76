import { definePlugin, outcome, type CheckOutcome, type Metric, type MetricDeclaration, type PluginLogger } from '../plugin.js';
import { normalisePerfDatum, parsePluginOutput, type PluginOutput } from '#rounds/common';
import { compileNagiosCommands, expandArgs, nagiosCheckSchema, type NagiosCommand, type NagiosCommands } from './nagios.schema.js';
import { runProcess, type ProcessControl, type ProcessResult } from './nagios.process.js';
import { posixProcessControl } from './nagios.linux.js';
import { windowsProcessControl } from './nagios.windows.js';

export { nagiosCommandsSchema, type NagiosCommands } from './nagios.schema.js';

/** stdout kept per run; a plugin that writes more is cut off (NRPE keeps far less). */
export const MAX_OUTPUT_BYTES = 64 * 1024;
const MAX_SUMMARY_CHARS = 400;

const STATUS_BY_EXIT = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

/**
 * Perfdata base unit → the metric it is reported as: one family per unit keeps Prometheus
 * types honest. These are also the perfdata part of the plugin's declarations.
 */
const FAMILIES: Readonly<Record<string, MetricDeclaration>> = {
  '': {
    name: 'perfdata',
    unit: '',
    help: 'A perfdata value without a unit of measure, or with one that has no base unit (that UOM is then the uom label).',
    labels: ['label', 'uom'],
  },
  seconds: { name: 'perfdata_seconds', unit: 'seconds', help: 'A perfdata time (s, ms, us) in seconds.', labels: ['label'] },
  bytes: { name: 'perfdata_bytes', unit: 'bytes', help: 'A perfdata size (B, KB, MB, GB, TB: ×1024 per step) in bytes.', labels: ['label'] },
  percent: { name: 'perfdata_percent', unit: 'percent', help: 'A perfdata percentage (%), 0–100.', labels: ['label'] },
  counter: { name: 'perfdata_total', unit: 'counter', help: 'A perfdata counter (c).', labels: ['label'] },
};

const METRICS: readonly MetricDeclaration[] = [
  { name: 'execution_seconds', unit: 'seconds', help: 'How long the command ran.' },
  { name: 'exit_code', unit: '', help: 'Exit code of the command (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).' },
  ...Object.values(FAMILIES),
];

function oneLine(text: string): string {
  const clean = text
    .replace(/[\u0000-\u001f\u007f\u0080-\u009f\ufffd]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > MAX_SUMMARY_CHARS ? `${clean.slice(0, MAX_SUMMARY_CHARS - 1)}…` : clean;
}

function perfdataMetrics(output: PluginOutput, log: PluginLogger, command: string): Metric[] {
  const metrics: Metric[] = [];
  const seen = new Set<string>();
  for (const datum of output.perfdata) {
    const n = normalisePerfDatum(datum);
    if (!n) continue;
    // An unknown UOM cannot be put in base units: the value stays unitless and the UOM travels as a label.
    const family = n.known ? FAMILIES[n.unit]! : FAMILIES['']!;
    const key = `${family.name}\u0000${n.label}`;
    if (seen.has(key)) {
      log.warn(`${command}: perfdata label "${n.label}" appears twice; the first value is kept`);
      continue;
    }
    seen.add(key);
    metrics.push({ name: family.name, value: n.value, unit: family.unit, labels: n.known ? { label: n.label } : { label: n.label, uom: n.unit } });
  }
  return metrics;
}

function spawnFailure(command: NagiosCommand, error: NodeJS.ErrnoException): CheckOutcome {
  const where = `nagios.commands.${command.name}.path in the agent config`;
  switch (error.code) {
    case 'ENOENT':
      return outcome(
        'UNKNOWN',
        'config_error',
        `${command.path} does not exist — install the plugin (Debian: monitoring-plugins-basic / monitoring-plugins-standard) or fix ${where}`,
      );
    case 'EACCES':
    case 'EPERM':
      return outcome('UNKNOWN', 'config_error', `${command.path} cannot be executed by the agent (permission denied) — make it executable or fix ${where}`);
    case 'ENOEXEC':
      return outcome('UNKNOWN', 'config_error', `${command.path} is not an executable the OS can start (missing #! line?) — fix ${where}`);
    default:
      return outcome('UNKNOWN', 'plugin_error', `could not start ${command.path}: ${error.message}`);
  }
}

function exitOutcome(command: NagiosCommand, result: Extract<ProcessResult, { kind: 'exited' }>, output: PluginOutput): CheckOutcome {
  const cut = result.truncated ? ` [output cut at ${MAX_OUTPUT_BYTES / 1024} KiB]` : '';
  const stderr = oneLine(result.stderr.split('\n').find((l) => l.trim() !== '') ?? '');
  const text = oneLine(output.text) || (stderr ? `(no output; stderr: ${stderr})` : '(no output)');
  const { code } = result;
  if (code === null) {
    return outcome('UNKNOWN', 'plugin_error', `${command.name} was killed by ${result.signal ?? 'a signal'}${cut}: ${text}`);
  }
  if (code >= 0 && code <= 3) {
    const status = STATUS_BY_EXIT[code]!;
    const reason = code === 0 ? 'ok' : code === 3 ? 'plugin_error' : 'threshold';
    return outcome(status, reason, `${text}${cut}`);
  }
  if (code === 126) {
    return outcome('UNKNOWN', 'config_error', `${command.name} exited with 126 (found but not executable — permissions or interpreter): ${text}`);
  }
  if (code === 127) {
    return outcome(
      'UNKNOWN',
      'config_error',
      `${command.name} exited with 127 (command not found — a program it runs is missing; install it or fix nagios.commands.${command.name}): ${text}`,
    );
  }
  return outcome('UNKNOWN', 'unexpected_response', `${command.name} exited with ${code}, outside Nagios' 0–3${cut}: ${text}`);
}

/**
 * Builds the `nagios` plugin for one agent. The allow-list comes from the agent's own
 * config, never from a check: a check can only name a command and fill in its `$ARGn$`.
 * Throws at start if the allow-list is invalid.
 */
export function createNagiosPlugin(
  commands: NagiosCommands | undefined,
  control: ProcessControl = process.platform === 'win32' ? windowsProcessControl : posixProcessControl,
) {
  const allowed = commands === undefined ? undefined : compileNagiosCommands(commands);
  return definePlugin({
    name: 'nagios',
    version: '1.0.0',
    description: "Runs a Nagios-compatible plugin from the agent's allow-list and reports its status, text and perfdata.",
    configSchema: nagiosCheckSchema(allowed),
    metrics: METRICS,
    async run(config, ctx) {
      const command = allowed?.get(config.command);
      if (!command) {
        return outcome('UNKNOWN', 'config_error', `"${config.command}" is not in the agent's nagios.commands allow-list`);
      }
      const started = ctx.now();
      const result = await runProcess(control, {
        path: command.path,
        argv: expandArgs(command, config.args),
        env: command.env,
        signal: ctx.signal,
        maxOutputBytes: MAX_OUTPUT_BYTES,
      });
      const seconds: Metric = { name: 'execution_seconds', value: Math.max(0, ctx.now() - started) / 1000, unit: 'seconds' };
      if (result.kind === 'spawn_error') return spawnFailure(command, result.error);
      const output = parsePluginOutput(result.stdout);
      if (output.problems.length > 0) ctx.log.warn(`${command.name}: ${output.problems.join('; ')}`.slice(0, 2000));
      if (output.longText.length > 0) ctx.log.debug(`${command.name} long output:\n${output.longText.join('\n')}`);
      if (result.kind === 'timeout') {
        const last = oneLine(output.text);
        return outcome(
          'CRITICAL',
          'timeout',
          `${command.name} did not finish before its deadline; its process tree was killed${last ? ` (it had printed: ${last})` : ''}`,
          [seconds],
        );
      }
      const metrics = [seconds, ...perfdataMetrics(output, ctx.log, command.name)];
      if (result.code !== null) metrics.push({ name: 'exit_code', value: result.code, unit: '' });
      const verdict = exitOutcome(command, result, output);
      return { ...verdict, metrics };
    },
  });
}
