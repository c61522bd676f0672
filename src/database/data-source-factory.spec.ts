import { describePostgresTarget } from './data-source-factory.js';

describe('describePostgresTarget', () => {
  it('shows host, port and database but never credentials', () => {
    expect(describePostgresTarget('postgres://cc:hunter2@db.internal:6543/command_center')).toBe(
      'db.internal:6543/command_center',
    );
    expect(describePostgresTarget('postgresql://db/cc')).toBe('db:5432/cc');
    expect(describePostgresTarget('not a url')).toBe('(unparseable DATABASE_URL)');
  });
});
