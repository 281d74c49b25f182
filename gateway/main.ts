// The only place that reads argv, the environment and signals. `npm start` runs the gateway (the built
// build/gateway/main.js; `npm run dev`: this file under tsx) on sip-config/gateway.yaml;
// `npm start -- --config FILE` on another file.
// SIGTERM/SIGINT: graceful stop within shutdown.grace seconds. SIGHUP: the config file is read again
// (users, routes, trunks, dial rules, TLS certificates; README "Operations"); a bad one is refused.
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildGateway, type Gateway } from './app.js';
import { AddressError } from './config/addresses.js';
import { ConfigError, loadConfigFile, splitHostPort } from './config/load.js';
import type { GatewayConfig } from './config/schema.js';
import { httpAdvertised, pageUrl } from './config/resolve.js';
import { TlsConfigError } from './http/tls.js';
import { packageRoot } from './lib/root.js';
import { createLogger, type Logger } from './log.js';

// The same file from gateway/main.ts (tsx) and from build/gateway/main.js (lib/root.ts).
const defaultConfig = path.join(packageRoot(import.meta.url), 'sip-config', 'gateway.yaml');

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({ options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    fail(`${(err as Error).message}\nusage: npm start -- [--config FILE]`);
  }
  if (args.values.help) {
    process.stdout.write('usage: npm start -- [--config FILE]   (default: sip-config/gateway.yaml)\n');
    return;
  }
  const file = args.values.config ?? defaultConfig;
  let config;
  try {
    config = loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  // The first line names the page URL (other tools rely on it): http.advertise, else the bound address
  // (a wildcard: the host's address, config/addresses.ts), https with http.tls (browsers grant the
  // microphone only on https or localhost). A wildcard the gateway cannot settle stops start-up here.
  const interfaces = networkInterfaces();
  let page: string;
  try {
    page = pageUrl(config, httpAdvertised(config, interfaces), splitHostPort(config.http.listen).port);
  } catch (err) {
    if (err instanceof AddressError) fail(`${file}: ${err.message}`);
    throw err;
  }
  process.stdout.write(`Gateway page: ${page}  (config: ${path.relative(process.cwd(), file) || file})\n`);
  const logger = createLogger(process.env.LOG_LEVEL ?? config.log.level, undefined, config.log.format);
  const gateway = buildGateway(config, { logger, interfaces });
  try {
    await gateway.start();
  } catch (err) {
    fail(`gateway failed to start: ${(err as Error).message}`);
  }
  handleSignals(gateway, config, file, logger);
}

/** SIGTERM/SIGINT: a graceful stop, exiting after at most shutdown.grace seconds; SIGHUP: a reload. */
function handleSignals(gateway: Gateway, config: GatewayConfig, file: string, logger: Logger): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const grace = config.shutdown.grace;
    logger.info({ signal, grace }, 'stopping');
    // Whatever still waits (a peer that never answers the BYE) does not hold the exit past the grace.
    setTimeout(() => {
      logger.error({ grace }, 'stop took longer than shutdown.grace: exiting');
      process.exit(1);
    }, grace * 1000).unref();
    gateway.stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    if (!stopping) reload(gateway, file, logger);
  });
}

/** SIGHUP: the file read and validated again; refused (logged at error, naming the file and key) → the
 *  running configuration stays as it was. */
function reload(gateway: Gateway, file: string, logger: Logger): void {
  try {
    gateway.reload(loadConfigFile(file));
  } catch (err) {
    if (!(err instanceof ConfigError) && !(err instanceof TlsConfigError)) throw err;
    const reason = err instanceof TlsConfigError ? `${file}: ${err.message}` : err.message;
    logger.error({ file }, `config reload refused, the running configuration is kept: ${reason.replace(/\n\s*/g, ' ')}`);
  }
}

await main();
