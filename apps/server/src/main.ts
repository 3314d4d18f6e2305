import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfigFromProcess } from './config.js';
import { readyMessage, start, type Running } from './start.js';

// Start-up messages go to stderr before the pino logger exists; everything after is pino.
const log = (line: string): void => void process.stderr.write(`${line}\n`);

let starting: Promise<Running> | null = null;
// Installed before start-up: a Ctrl-C or SIGTERM during start-up waits for it, then stops what
// it started (the embedded PostgreSQL runs in a process group of its own and would outlive us).
const grace = closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  const running = await starting?.catch(() => null);
  if (!running) return;
  if (err) running.app.log.error({ err }, 'shutting down after an error');
  else running.app.log.info({ signal }, 'shutting down');
  await running.stop();
});

try {
  const config = loadConfigFromProcess();
  starting = start(config, log);
  const running = await starting;
  running.app.log.info(
    { url: running.url, console: `${config.publicUrl}/` },
    readyMessage(config, running.url),
  );
} catch (error) {
  grace.uninstall(); // close-with-grace would turn the exit code into 0
  if (error instanceof ConfigError) log(error.message);
  else log(`Tessera failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
