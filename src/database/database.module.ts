import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config.js';
import { DatabaseClock } from './database-clock.js';
import { DatabaseHealth } from './database-health.js';
import { LeaderElection } from './leader-election.js';
import { openDataSource } from './data-source-factory.js';
import { dataSourceOptions } from './data-source-options.js';
import { TransactionRunner } from './transaction-runner.js';

/** The one DataSource (PostgreSQL or embedded SQLite); feature modules add their entities. */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config),
        autoLoadEntities: true,
        retryAttempts: 0,
        toRetry: () => false,
      }),
      dataSourceFactory: async (options) => openDataSource(options!),
    }),
  ],
  providers: [DatabaseHealth, TransactionRunner, DatabaseClock, LeaderElection],
  exports: [DatabaseHealth, TransactionRunner, DatabaseClock, LeaderElection],
})
export class DatabaseModule {}
