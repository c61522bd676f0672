import { randomUUID } from 'node:crypto';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { BUILTIN_RULES } from '../builtin-autoheal-rules.js';

export class CreateAutoheal1764240000000 implements MigrationInterface {
  name = 'CreateAutoheal1764240000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE autoheal_rules (
        id varchar(36) PRIMARY KEY,
        name varchar(100) NOT NULL,
        description text NOT NULL,
        enabled boolean NOT NULL,
        dry_run boolean NOT NULL,
        tenant_id varchar(128),
        endpoint_url_prefix varchar(2048),
        trigger_metric varchar(32) NOT NULL,
        trigger_threshold double precision NOT NULL,
        trigger_window_s integer NOT NULL,
        trigger_min_requests integer NOT NULL,
        trigger_for_s integer NOT NULL,
        action_type varchar(32) NOT NULL,
        action_params text NOT NULL,
        cooldown_s integer NOT NULL,
        max_actions_per_hour integer NOT NULL,
        builtin boolean NOT NULL,
        version integer NOT NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_autoheal_rules_name ON autoheal_rules (name)`);
    await q.query(`
      CREATE TABLE autoheal_states (
        rule_id varchar(36) NOT NULL REFERENCES autoheal_rules (id) ON DELETE CASCADE,
        endpoint_id varchar(36) NOT NULL,
        tenant_id varchar(128) NOT NULL,
        endpoint_url varchar(2048) NOT NULL,
        condition_since timestamptz,
        cooldown_until timestamptz,
        last_outcome varchar(32),
        last_outcome_at timestamptz,
        handled_signal_at timestamptz,
        PRIMARY KEY (rule_id, endpoint_id)
      )`);
    await q.query(`CREATE INDEX idx_autoheal_states_endpoint ON autoheal_states (endpoint_id)`);
    await q.query(`CREATE INDEX idx_autoheal_states_cooldown ON autoheal_states (cooldown_until)`);
    await q.query(`
      CREATE TABLE autoheal_executions (
        id varchar(36) PRIMARY KEY,
        rule_id varchar(36) NOT NULL,
        rule_name varchar(100) NOT NULL,
        endpoint_id varchar(36) NOT NULL,
        tenant_id varchar(128) NOT NULL,
        endpoint_url varchar(2048) NOT NULL,
        metric varchar(32) NOT NULL,
        value double precision NOT NULL,
        threshold double precision NOT NULL,
        outcome varchar(32) NOT NULL,
        action_type varchar(32) NOT NULL,
        detail text NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX idx_autoheal_exec_created ON autoheal_executions (created_at, id)`);
    await q.query(`CREATE INDEX idx_autoheal_exec_tenant ON autoheal_executions (tenant_id, created_at, id)`);
    await q.query(`CREATE INDEX idx_autoheal_exec_endpoint ON autoheal_executions (endpoint_id, created_at, id)`);
    await q.query(`CREATE INDEX idx_autoheal_exec_outcome ON autoheal_executions (outcome, created_at)`);
    await q.query(`CREATE INDEX idx_autoheal_exec_rule ON autoheal_executions (rule_id, created_at, id)`);
    const now = new Date();
    for (const rule of BUILTIN_RULES) {
      await q.query(
        `INSERT INTO autoheal_rules (id, name, description, enabled, dry_run, tenant_id, endpoint_url_prefix,
           trigger_metric, trigger_threshold, trigger_window_s, trigger_min_requests, trigger_for_s,
           action_type, action_params, cooldown_s, max_actions_per_hour, builtin, version, created_by,
           created_at, updated_at)
         VALUES ($1, $2, $3, true, false, NULL, NULL, $4, $5, $6, $7, $8, $9, $10, $11, $12, true, 1, 'system', $13, $13)`,
        [
          randomUUID(),
          rule.name,
          rule.description,
          rule.trigger.metric,
          rule.trigger.threshold,
          rule.trigger.window_s,
          rule.trigger.min_requests,
          rule.trigger.for_s,
          rule.action.type,
          JSON.stringify(rule.action.params),
          rule.cooldown_s,
          rule.max_actions_per_hour,
          now,
        ],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE autoheal_executions`);
    await q.query(`DROP TABLE autoheal_states`);
    await q.query(`DROP TABLE autoheal_rules`);
  }
}
