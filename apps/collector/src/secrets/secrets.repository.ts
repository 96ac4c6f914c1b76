import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { PluginRegistry } from '#rounds/plugins';
import { DataSource, IsNull, Not } from 'typeorm';
import { AgentEntity, CheckEntity, NotificationChannelEntity } from '../storage/entities/index.js';
import { PLUGIN_REGISTRY } from '../shared/tokens.js';
import { parseDescription } from '../state/stored-json.js';
import { resealCheckConfig } from '../inventory/check-secrets.js';
import { UserEntity } from '../users/user.entity.js';
import { SessionEntity } from '../auth/session.entity.js';
import { totpSecretLabel } from '../users/users.repository.js';
import { DATA_SOURCE } from '../storage/data-source.js';
import { attachSecretBox, secretBoxOf, type SecretBox } from '../storage/secret-box.js';
import { inTransaction, isPostgres, serialised } from '../storage/transaction.js';
import { agentTokenLabel } from '../inventory/agents.repository.js';
import { resealChannelConfig } from '../notifications/channel-secrets.js';
import { EnrolmentEntity, SiteKeyEntity } from '../enrolment/enrolment.entity.js';
import { claimTokenLabel, SITE_KEY_LABEL } from '../enrolment/enrolments.repository.js';
import { SECRET_KEY_CHECK_ID, SecretKeyCheckEntity } from './secret-key-check.entity.js';

/** How many stored values a sweep or a rotation sealed again. */
export interface ResealCounts {
  agents: number;
  channels: number;
  /** Checks whose config holds secrets (a plugin's x-secret fields). */
  checks: number;
  /** Users' two-factor (TOTP) secrets, and those of enrolments waiting for their first code. */
  users: number;
  /** The site key and the claim tokens of site-key enrolments under way. */
  enrolments: number;
}

/** Names the key check in a key mismatch: what the operator must do is in the name. */
export const KEY_CHECK_LABEL =
  "this database's key check (written by the first collector that started on it: every collector on one database needs that collector's key)";

/**
 * Every secret column at once: agents.token, the secret fields in notification_channels.config_json
 * and checks.config_json, users.totp_secret, sessions.pending_totp_secret, site_keys.key and
 * enrolments.token.
 */
@Injectable()
export class SecretsRepository {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    // Which check config fields are secret: the built-in plugins' schemas (custom ones: their agents' descriptions).
    @Optional() @Inject(PLUGIN_REGISTRY) private readonly registry: PluginRegistry = PluginRegistry.withBuiltins(),
  ) {}

  box(): SecretBox {
    return secretBoxOf(this.dataSource);
  }

  /** From now on every repository on this database seals with `box` (after a rotation). */
  useBox(box: SecretBox): void {
    attachSecretBox(this.dataSource, box);
  }

  /**
   * Seals with `box`'s current key every stored secret that is not sealed with it yet —
   * plaintext from before encryption at rest, or values of an older key — in one transaction:
   * all of them or none. Idempotent: a second run finds nothing to do.
   *
   * First the database's key check: written with `box`'s key on a database that has none yet, else
   * opened — so a collector with another key than the one this database was first used with stops
   * here even when nothing else is sealed yet (several collectors on one new database). Two
   * starting at once: the second's insert waits for the first's commit and then opens its value.
   */
  async resealAll(box: SecretBox): Promise<ResealCounts> {
    return this.scrubbingFreedSpace(() =>
      inTransaction(this.dataSource, async (m) => {
        await m
          .createQueryBuilder()
          .insert()
          .into(SecretKeyCheckEntity)
          .values({ id: SECRET_KEY_CHECK_ID, value: box.seal(randomBytes(16).toString('base64url')), createdAt: Date.now() })
          .orIgnore()
          .execute();
        const check = await m.findOneByOrFail(SecretKeyCheckEntity, { id: SECRET_KEY_CHECK_ID });
        if (!box.isCurrent(check.value)) {
          await m.update(SecretKeyCheckEntity, { id: SECRET_KEY_CHECK_ID }, { value: box.seal(box.open(check.value, KEY_CHECK_LABEL)) });
        }
        const counts: ResealCounts = { agents: 0, channels: 0, checks: 0, users: 0, enrolments: 0 };
        for (const agent of await m.find(AgentEntity, { select: { id: true, name: true, token: true } })) {
          if (box.isCurrent(agent.token)) continue;
          await m.update(AgentEntity, { id: agent.id }, { token: box.seal(box.open(agent.token, agentTokenLabel(agent))) });
          counts.agents += 1;
        }
        for (const channel of await m.find(NotificationChannelEntity, { select: { id: true, name: true, type: true, configJson: true } })) {
          const configJson = resealChannelConfig(channel, box);
          if (configJson === null) continue;
          await m.update(NotificationChannelEntity, { id: channel.id }, { configJson });
          counts.channels += 1;
        }
        const described = new Map<string, ReadonlyMap<string, unknown>>();
        for (const agent of await m.find(AgentEntity, { select: { id: true, descriptionJson: true } })) {
          described.set(agent.id, parseDescription(agent.descriptionJson, new Map()).secretSchemas);
        }
        for (const check of await m.find(CheckEntity, { select: { id: true, name: true, plugin: true, agentId: true, configJson: true } })) {
          const schema = this.registry.get(check.plugin)?.jsonSchema ?? described.get(check.agentId)?.get(check.plugin);
          const configJson = resealCheckConfig(check, schema, box);
          if (configJson === null) continue;
          await m.update(CheckEntity, { id: check.id }, { configJson });
          counts.checks += 1;
        }
        for (const user of await m.find(UserEntity, { select: { id: true, name: true, totpSecret: true } })) {
          if (user.totpSecret === null || box.isCurrent(user.totpSecret)) continue;
          await m.update(UserEntity, { id: user.id }, { totpSecret: box.seal(box.open(user.totpSecret, totpSecretLabel(user))) });
          counts.users += 1;
        }
        // Secrets shown for a two-factor enrolment not yet confirmed, kept in the user's session.
        for (const session of await m.find(SessionEntity, {
          select: { id: true, userId: true, pendingTotpSecret: true },
          where: { pendingTotpSecret: Not(IsNull()) },
        })) {
          if (session.pendingTotpSecret === null || box.isCurrent(session.pendingTotpSecret)) continue;
          const what = `a pending two-factor secret (session of user ${session.userId})`;
          await m.update(SessionEntity, { id: session.id }, { pendingTotpSecret: box.seal(box.open(session.pendingTotpSecret, what)) });
          counts.users += 1;
        }
        for (const site of await m.find(SiteKeyEntity, { select: { id: true, key: true } })) {
          if (box.isCurrent(site.key)) continue;
          await m.update(SiteKeyEntity, { id: site.id }, { key: box.seal(box.open(site.key, SITE_KEY_LABEL)) });
          counts.enrolments += 1;
        }
        for (const row of await m.find(EnrolmentEntity, { select: { id: true, name: true, token: true } })) {
          if (row.token === null || box.isCurrent(row.token)) continue;
          await m.update(EnrolmentEntity, { id: row.id }, { token: box.seal(box.open(row.token, claimTokenLabel(row))) });
          counts.enrolments += 1;
        }
        return counts;
      }),
    );
  }

  /**
   * What a reseal replaces must not linger in the SQLite file: with secure_delete SQLite
   * zeroes the space the old values leave behind, and a TRUNCATE checkpoint moves the new
   * pages into the database and empties the WAL, which still held the old ones. (PostgreSQL
   * keeps old row versions until VACUUM: see README, "Secrets at rest".)
   */
  private async scrubbingFreedSpace<T extends ResealCounts>(work: () => Promise<T>): Promise<T> {
    if (isPostgres(this.dataSource)) return work();
    const [before] = await serialised(this.dataSource, () => this.dataSource.query<{ secure_delete: number }[]>('PRAGMA secure_delete'));
    await serialised(this.dataSource, () => this.dataSource.query('PRAGMA secure_delete = ON'));
    try {
      const counts = await work();
      if (counts.agents + counts.channels + counts.checks + counts.users + counts.enrolments > 0)
        await serialised(this.dataSource, () => this.dataSource.query('PRAGMA wal_checkpoint(TRUNCATE)'));
      return counts;
    } finally {
      await serialised(this.dataSource, () => this.dataSource.query(`PRAGMA secure_delete = ${before?.secure_delete ? 'ON' : 'OFF'}`));
    }
  }
}
