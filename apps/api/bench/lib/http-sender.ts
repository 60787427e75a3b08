import { Agent, request } from 'node:http';
import superjson from 'superjson';

/**
 * `messages.send` over HTTP exactly as the stock client's `httpBatchLink` puts it on the wire
 * (`POST /trpc/messages.send?batch=1`, superjson input under key "0", bearer token), through a
 * plain keep-alive agent. Scenario B sends from thousands of different users; a stock client per
 * user (fetch + link chain each) would make the load generator, not the server, the bottleneck.
 */
export function createHttpSender(port: number, maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    send(
      token: string,
      input: {
        conversationId: string;
        epoch: number;
        clientMessageId: string;
        sentAt: Date;
        ciphertext: string;
      },
    ): Promise<void> {
      const body = JSON.stringify({ 0: superjson.serialize(input) });
      return post(token, body, true);
    },
    close(): void {
      agent.destroy();
    },
  };

  function post(token: string, body: string, mayRetry: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/trpc/messages.send?batch=1',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            if (res.statusCode === 200) resolve();
            else {
              const text = Buffer.concat(chunks).toString().slice(0, 300);
              reject(new Error(`HTTP ${res.statusCode}: ${text}`));
            }
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed as it was reused (its 5 s idle timeout):
        // resend once, as Node's docs advise; the send is idempotent on clientMessageId.
        if (mayRetry && req.reusedSocket && error.code === 'ECONNRESET') {
          post(token, body, false).then(resolve, reject);
        } else reject(error);
      });
      req.end(body);
    });
  }
}
