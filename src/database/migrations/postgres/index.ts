import type { MixedList } from 'typeorm';

/** PostgreSQL migrations in order; each feature module adds its own (`<epoch>-<PascalName>.ts`). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const postgresMigrations: MixedList<Function> = [];
