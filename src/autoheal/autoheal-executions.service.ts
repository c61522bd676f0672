import { Injectable } from '@nestjs/common';
import type { TenantScope } from '../common/auth/tenant-scope.js';
import { decodeKeyset, encodeKeyset } from '../common/pagination/cursor.js';
import { AutohealExecutionRepository } from './autoheal-execution.repository.js';
import type { AutohealExecutionEntity } from './autoheal-execution.entity.js';
import type { ExecutionPageView, ExecutionQueryDto, ExecutionView } from './dto/execution.dto.js';

/** What the engine decided, newest first, within the caller's tenant scope. */
@Injectable()
export class AutohealExecutionsService {
  constructor(private readonly executions: AutohealExecutionRepository) {}

  async list(query: ExecutionQueryDto, scope: TenantScope): Promise<ExecutionPageView> {
    const rows = await this.executions.list(
      {
        tenantId: scope.filter(query.tenant_id),
        ruleId: query.rule_id,
        endpointId: query.endpoint_id,
        outcomes: query.outcome,
        since: query.since ? new Date(query.since) : undefined,
        until: query.until ? new Date(query.until) : undefined,
      },
      query.limit + 1,
      decodeKeyset(query.cursor),
    );
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    const hasMore = rows.length > query.limit;
    return {
      items: items.map(executionView),
      limit: query.limit,
      next_cursor: hasMore && last ? encodeKeyset({ createdAt: new Date(last.created_at), id: last.id }) : null,
      has_more: hasMore,
    };
  }
}

function executionView(x: AutohealExecutionEntity): ExecutionView {
  return {
    id: x.id,
    rule_id: x.rule_id,
    rule_name: x.rule_name,
    endpoint_id: x.endpoint_id,
    tenant_id: x.tenant_id,
    endpoint_url: x.endpoint_url,
    metric: x.metric,
    value: x.value,
    threshold: x.threshold,
    outcome: x.outcome,
    action_type: x.action_type,
    detail: JSON.parse(x.detail) as Record<string, unknown>,
    created_at: new Date(x.created_at).toISOString(),
  };
}
