import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A WebSocket client that costs the server what any client costs but itself almost nothing: a
 * bare TCP socket that does the handshake, sends a few masked text frames, and then only walks
 * frame headers to count what arrives. It never decodes, validates UTF-8 or allocates per frame,
 * so one process can hold thousands of them and count hundreds of thousands of frames a second
 * (realtime.md: a Node load generator of real clients saturates long before the server does).
 *
 * It answers tRPC's keep-alive (`PING` text frame -> `PONG`) and WebSocket pings, so idle sockets
 * stay open for as long as a benchmark needs them.
 */
export interface CheapSocketOptions {
  host: string;
  port: number;
  /** Request path, e.g. `/trpc?connectionParams=1`. */
  path: string;
  /** Text frames sent right after the handshake (connection params, subscription). */
  hello: string[];
  /** Frames whose payload is at least this long are counted as messages; smaller ones are not. */
  messageMinBytes: number;
  /** Frames no larger than this are decoded and offered to `onSmallFrame` until `settled`. */
  onSmallFrame?(text: string, socket: CheapSocket): void;
}

const INSPECT_MAX = 4096;

export class CheapSocket {
  /** Frames at least `messageMinBytes` long (the benchmark's messages). */
  messages = 0;
  /** Payload bytes of those frames. */
  messageBytes = 0;
  /** All other data frames (started, presence, PING...). */
  otherFrames = 0;
  open = false;
  closed = false;
  closeCode: number | null = null;
  /** Once true, small frames are no longer decoded (only PING is still recognized). */
  settled = false;

  private readonly socket: Socket;
  private handshake: Buffer | null = Buffer.alloc(0);
  private leftover: Buffer | null = null;
  private skip = 0;
  private skipIsMessage = false;

  constructor(
    private readonly options: CheapSocketOptions,
    onOpen: (socket: CheapSocket) => void,
    onFail: (error: Error) => void,
  ) {
    const key = randomBytes(16).toString('base64');
    this.socket = connect({ host: options.host, port: options.port });
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => {
      this.socket.write(
        `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\n` +
          `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
          `Sec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.socket.on('data', (chunk: Buffer) => {
      if (this.handshake) {
        const buffer = Buffer.concat([this.handshake, chunk]);
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) {
          this.handshake = buffer;
          return;
        }
        this.handshake = null;
        const head = buffer.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) {
          onFail(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
          this.socket.destroy();
          return;
        }
        this.open = true;
        for (const text of options.hello) this.sendText(text);
        onOpen(this);
        if (buffer.length > end + 4) this.read(buffer.subarray(end + 4));
        return;
      }
      this.read(chunk);
    });
    this.socket.on('error', (error) => {
      if (!this.open) onFail(error);
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.open = false;
    });
  }

  /** Sends one masked text frame. */
  sendText(text: string): void {
    const payload = Buffer.from(text);
    const length = payload.length;
    const header =
      length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    header[0] = 0x81;
    if (length < 126) header[1] = 0x80 | length;
    else if (length < 65536) {
      header[1] = 0x80 | 126;
      header.writeUInt16BE(length, 2);
    } else {
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
    const mask = randomBytes(4);
    for (let i = 0; i < length; i++) payload[i]! ^= mask[i & 3]!;
    this.socket.write(Buffer.concat([header, mask, payload]));
  }

  private sendControl(opcode: number, payload: Buffer): void {
    const mask = randomBytes(4);
    const masked = Buffer.from(payload);
    for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i & 3]!;
    this.socket.write(
      Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | masked.length]), mask, masked]),
    );
  }

  private read(chunk: Buffer): void {
    let buffer = chunk;
    if (this.leftover) {
      buffer = Buffer.concat([this.leftover, chunk]);
      this.leftover = null;
    }
    let i = 0;
    const end = buffer.length;
    const minMessage = this.options.messageMinBytes;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - i);
        this.skip -= n;
        i += n;
        if (this.skip > 0) return;
      }
      if (end - i < 2) break;
      const b0 = buffer[i]!;
      const b1 = buffer[i + 1]!;
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (end - i < 4) break;
        length = buffer.readUInt16BE(i + 2);
        header = 4;
      } else if (length === 127) {
        if (end - i < 10) break;
        length = Number(buffer.readBigUInt64BE(i + 2));
        header = 10;
      }
      const opcode = b0 & 0x0f;
      const inspect =
        opcode >= 8 ||
        length === 4 ||
        (!this.settled && length <= INSPECT_MAX && length < minMessage);
      if (inspect) {
        if (end - i < header + length) break;
        const payload = buffer.subarray(i + header, i + header + length);
        i += header + length;
        this.control(opcode, payload);
        continue;
      }
      i += header;
      if (length >= minMessage) {
        this.messages += 1;
        this.messageBytes += length;
      } else {
        this.otherFrames += 1;
      }
      this.skip = length;
    }
    if (i < end) this.leftover = Buffer.from(buffer.subarray(i));
  }

  private control(opcode: number, payload: Buffer): void {
    if (opcode === 0x8) {
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.socket.end();
      return;
    }
    if (opcode === 0x9) return this.sendControl(0xa, payload);
    if (opcode === 0xa) return;
    if (payload.length >= this.options.messageMinBytes) {
      this.messages += 1;
      this.messageBytes += payload.length;
      return;
    }
    this.otherFrames += 1;
    const text = payload.toString();
    if (text === 'PING') return this.sendText('PONG');
    if (!this.settled) this.options.onSmallFrame?.(text, this);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Opens `count` sockets with at most `concurrency` handshakes in flight. */
export async function openMany(
  count: number,
  concurrency: number,
  make: (index: number, onOpen: () => void, onFail: (error: Error) => void) => CheapSocket,
): Promise<{ sockets: CheapSocket[]; failures: string[] }> {
  const sockets: CheapSocket[] = [];
  const failures: string[] = [];
  let next = 0;
  async function worker() {
    while (next < count) {
      const index = next++;
      await new Promise<void>((resolve) => {
        const socket = make(
          index,
          () => resolve(),
          (error) => {
            failures.push(error.message);
            resolve();
          },
        );
        sockets.push(socket);
      });
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { sockets, failures };
}
