import { TransactionRunner } from '../src/database/transaction-runner.js';
import { EventsService } from '../src/events/events.service.js';
import { SYSTEM_ACTOR } from '../src/events/event.types.js';
import { LISTENER_APPLICATION_NAME } from '../src/events/pg-event-listener.js';
import { postgresAvailable } from './support/dialects.js';
import { SseClient } from './support/sse-client.js';
import { adminQuery, createTestDatabase, type TestDatabase } from './support/test-database.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const OPERATOR = { 'X-User-Roles': 'operator' };

(postgresAvailable() ? describe : describe.skip)('two replicas on one PostgreSQL database', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let streamB: SseClient;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    a = await createTestApp('postgres', { database: db });
    b = await createTestApp('postgres', { database: db });
    const baseB = await b.listen();
    streamB = await SseClient.open(`${baseB}/events/stream?types=test.*,operator.annotation`, OPERATOR);
  });
  afterAll(async () => {
    await streamB?.close();
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  const publishOnA = async (n: number, label: string): Promise<number[]> => {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const event = await a.app
        .get(TransactionRunner)
        .run((tx) =>
          a.app.get(EventsService).publish(tx, { type: 'test.replica', actor: SYSTEM_ACTOR, data: { label, i } }),
        );
      ids.push(event.id);
    }
    return ids;
  };

  it('delivers an event published through A to a stream on B', async () => {
    const res = await a
      .http()
      .post('/events/annotations')
      .set(OPERATOR)
      .send({ message: 'from replica A' })
      .expect(201);
    await streamB.waitFor((f) => f.some((x) => x.id === String(res.body.id)), 5000, 'the event from A');
  });

  it('loses and repeats nothing when B loses its listener connection', async () => {
    const before = await publishOnA(5, 'before');
    await streamB.waitFor((f) => f.some((x) => x.id === String(before[4])));
    await adminQuery(
      process.env.TEST_DATABASE_URL!,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.databaseName}' AND application_name = '${LISTENER_APPLICATION_NAME}'`,
    );
    // Published while B's listener is down or reconnecting.
    const during = await publishOnA(20, 'during');
    await streamB.waitFor((f) => f.some((x) => x.id === String(during[19])), 15000, 'every event after the reconnect');
    const after = await publishOnA(3, 'after');
    await streamB.waitFor((f) => f.some((x) => x.id === String(after[2])), 5000);
    const received = streamB.events('test.replica').map((f) => Number(f.id));
    const expected = [...before, ...during, ...after];
    expect(received.filter((id) => expected.includes(id))).toEqual(expected);
    expect(new Set(received).size).toBe(received.length);
    expect(b.logs.lines.some((l) => l.includes('event listener reconnected'))).toBe(true);
  });
});
