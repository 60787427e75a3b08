/**
 * One of the concurrent writer processes of writers.test.ts: opens the shared SQLite file through
 * packages/db (as the server does), waits for `go`, then stores `transactions` messages, each in
 * its own immediate write transaction, and reports how many failed and why. Never run by hand.
 */
import { randomBytes } from 'node:crypto';
import { createDb, createMessageInserter } from '@securechat/db';

export interface WriterConfig {
  path: string;
  transactions: number;
  conversationId: string;
  epoch: number;
  userId: string;
  deviceId: string;
}

export interface WriterReport {
  type: 'done';
  committed: number;
  busy: number;
  otherErrors: string[];
  ms: number;
  /** The slowest single transaction, including any wait for the write lock. */
  maxTransactionMs: number;
}

process.once('message', (message: { type: 'start'; config: WriterConfig }) => {
  const { config } = message;
  const handle = createDb(config.path);
  const insertMessages = createMessageInserter(handle.db);
  process.send!({ type: 'ready' });
  process.once('message', () => {
    const report: WriterReport = {
      type: 'done',
      committed: 0,
      busy: 0,
      otherErrors: [],
      ms: 0,
      maxTransactionMs: 0,
    };
    const started = performance.now();
    for (let i = 0; i < config.transactions; i++) {
      const t0 = performance.now();
      try {
        const [result] = insertMessages(
          [
            {
              conversationId: config.conversationId,
              epoch: config.epoch,
              senderUserId: config.userId,
              senderDeviceId: config.deviceId,
              clientMessageId: randomBytes(16).toString('hex'),
              sentAt: new Date(),
              ciphertext: randomBytes(120),
            },
          ],
          new Date(),
        );
        if (result?.ok) report.committed += 1;
        else report.otherErrors.push(`refused: ${JSON.stringify(result)}`);
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) report.busy += 1;
        else if (report.otherErrors.length < 5) report.otherErrors.push(String(error));
      }
      report.maxTransactionMs = Math.max(report.maxTransactionMs, performance.now() - t0);
    }
    report.ms = performance.now() - started;
    handle.close();
    process.send!(report, () => process.exit(0));
  });
});
process.on('disconnect', () => process.exit(0));
