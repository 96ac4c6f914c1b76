import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './transformers.js';

/** The id of the one row: there is one alert engine per collector database. */
export const ALERT_ENGINE_STATE_ID = 1;

/**
 * The alert engine's state (check states, alerts, rules, silences, maintenance windows,
 * check policy overrides) as one JSON document, written in the same transaction as the
 * history lines and outbox rows of the step that produced it.
 */
@Entity({ name: 'alert_engine_state' })
export class AlertEngineStateEntity {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  /** `AlertEngineState.version` of `state_json`: a newer Rounds may need to convert it. */
  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'state_json', type: 'text' })
  stateJson!: string;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt!: number;

  /** One more with every write: a change made on a state another collector has since changed is made again on the new one. */
  @Column({ type: 'bigint', transformer: bigintAsNumber, default: 0 })
  revision!: number;
}
