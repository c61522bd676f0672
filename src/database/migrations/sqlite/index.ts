import type { MixedList } from 'typeorm';
import { CreateEvents1764180000000 } from './1764180000000-CreateEvents.js';
import { CreateDeliveries1764190000000 } from './1764190000000-CreateDeliveries.js';
import { AddDispatch1764200000000 } from './1764200000000-AddDispatch.js';
import { AddPendingTrigger1764210000000 } from './1764210000000-AddPendingTrigger.js';
import { CreateReplayJobs1764220000000 } from './1764220000000-CreateReplayJobs.js';
import { AddEndpointHealing1764230000000 } from './1764230000000-AddEndpointHealing.js';
import { CreateAutoheal1764240000000 } from './1764240000000-CreateAutoheal.js';
import { CreateAnomalies1764250000000 } from './1764250000000-CreateAnomalies.js';
import { AddTenantHourlyStats1764260000000 } from './1764260000000-AddTenantHourlyStats.js';

/** SQLite migrations in order; each feature adds its own (`<epoch>-<PascalName>.ts`). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const sqliteMigrations: MixedList<Function> = [
  CreateEvents1764180000000,
  CreateDeliveries1764190000000,
  AddDispatch1764200000000,
  AddPendingTrigger1764210000000,
  CreateReplayJobs1764220000000,
  AddEndpointHealing1764230000000,
  CreateAutoheal1764240000000,
  CreateAnomalies1764250000000,
  AddTenantHourlyStats1764260000000,
];
