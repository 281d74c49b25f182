// RFC 3261 §20.42 / §25.1 Via:
//   via-parm = sent-protocol LWS sent-by *( SEMI via-params )
//   sent-protocol = protocol-name SLASH protocol-version SLASH transport;  SLASH = SWS "/" SWS
//   sent-by = host [ COLON port ];  COLON = SWS ":" SWS
import { TOKEN } from './chars.js';
import { formatParams, newParams, scanParams } from './params.js';
import { Scanner } from './scanner.js';
import type { Via } from './types.js';
import { scanHostPort } from './uri.js';

/** Parse one via-parm (split a Via header list with getHeaderValues first). */
export function parseVia(text: string, what = 'Bad Via'): Via {
  const sc = new Scanner(text, what);
  sc.skipWs();
  const name = sc.need(TOKEN, 'protocol name');
  slash(sc);
  const version = sc.need(TOKEN, 'protocol version');
  slash(sc);
  const transport = sc.need(TOKEN, 'transport').toUpperCase();
  if (!sc.skipWs()) sc.fail('missing whitespace before sent-by');
  const via: Via = { protocol: `${name.toUpperCase()}/${version}`, transport, host: '', params: newParams() };
  scanHostPort(sc, via, true);
  scanParams(sc, via.params);
  sc.end();
  return via;
}

function slash(sc: Scanner): void {
  sc.skipWs();
  sc.expect('/', "'/' in sent-protocol");
  sc.skipWs();
}

export function formatVia(via: Via): string {
  const port = via.port !== undefined ? `:${via.port}` : '';
  return `${via.protocol}/${via.transport} ${via.host}${port}${formatParams(via.params)}`;
}
