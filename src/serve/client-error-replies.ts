import type { Duplex } from 'node:stream';

/**
 * Sockets answered per turn of the event loop. Node reports every connection whose headers timed out in one check
 * at once: 2,000 slow-header clients answered in that one turn took ~50 ms of CPU (100–300 ms on a loaded machine),
 * and every other client waited for it. Answered a few dozen at a time, other clients' requests go in between.
 */
export const REPLIES_PER_TURN = 50;

/** What a reply needs of a server socket (a `net.Socket`, or a TLS one). */
type ClientSocket = Duplex & { destroySoon?: () => void };

/**
 * The answers to clients the HTTP parser gave up on ('clientError': headers too large, not HTTP, too slow): each
 * gets a JSON-RPC error with its HTTP status, then the socket ends. The socket stops being read at once, so that
 * nothing it sends after the error is parsed, and is answered within a few turns.
 *
 * @example server.on('clientError', new ClientErrorReplies(16 * 1024).onClientError);
 */
export class ClientErrorReplies {
  private readonly waiting = new Map<ClientSocket, string | undefined>();
  private scheduled = false;

  constructor(private readonly maxHeaderBytes: number) {}

  readonly onClientError = (error: NodeJS.ErrnoException, socket: ClientSocket): void => {
    socket.pause();
    this.waiting.set(socket, error.code);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.replyToSome);
  };

  private readonly replyToSome = (): void => {
    let replied = 0;
    for (const [socket, code] of this.waiting) {
      this.waiting.delete(socket);
      this.reply(socket, code);
      if (++replied === REPLIES_PER_TURN) break;
    }
    if (this.waiting.size > 0) setImmediate(this.replyToSome);
    else this.scheduled = false;
  };

  private reply(socket: ClientSocket, code: string | undefined): void {
    // Whatever the client does next, the socket ends here: a slow or broken client must not keep it. A response
    // whose head went out on it (a stream, garbage pipelined after its request) must not get a second head in its body.
    if (!socket.writable || responseUnderWay(socket)) return void socket.destroy();
    const [status, reason] =
      code === 'HPE_HEADER_OVERFLOW'
        ? ['431 Request Header Fields Too Large', `Request headers exceed ${this.maxHeaderBytes} bytes`]
        : code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? ['408 Request Timeout', 'Request Timeout: the request did not arrive in time']
          : ['400 Bad Request', 'Bad Request: not a valid HTTP request'];
    const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: reason } });
    socket.end(
      `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    socket.destroySoon?.();
  }
}

/** Whether a response on the socket has sent its head (Node's own answer to a client error checks the same). */
function responseUnderWay(socket: ClientSocket): boolean {
  return (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent === true;
}
