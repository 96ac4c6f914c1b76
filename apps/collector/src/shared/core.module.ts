import { Global, Module, type DynamicModule } from '@nestjs/common';
import { systemClock, type Clock } from '#rounds/common';
import { PluginRegistry } from '#rounds/plugins';
import type { CollectorConfig } from '../config/env.js';
import { CollectorMetrics } from '../metrics/collector-metrics.service.js';
import { CLOCK, COLLECTOR_CONFIG, PLUGIN_REGISTRY, POLL_OBSERVER } from './tokens.js';

/**
 * What every feature module may inject: the validated config, the clock, the built-in plugin
 * registry and the collector's own telemetry (poll timings, commit durations), which the
 * poller and the writer report into and /metrics renders — provided here so that neither
 * side has to import the other's module.
 */
@Global()
@Module({})
export class CoreModule {
  /** `clock`: the system's, except in specs that move time by hand (session expiry, lockouts). */
  static forRoot(config: CollectorConfig, clock: Clock = systemClock): DynamicModule {
    const providers = [
      { provide: COLLECTOR_CONFIG, useValue: config },
      { provide: CLOCK, useValue: clock },
      { provide: PLUGIN_REGISTRY, useFactory: () => PluginRegistry.withBuiltins() },
      { provide: CollectorMetrics, useClass: CollectorMetrics },
      { provide: POLL_OBSERVER, useExisting: CollectorMetrics },
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => p.provide) };
  }
}
