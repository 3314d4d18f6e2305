import closeWithGrace from 'close-with-grace';
import { ConfigError, loadConfigFromProcess } from './config.js';
import { readyMessage, start } from './start.js';

// Start-up messages go to stderr before the pino logger exists; everything after is pino.
const log = (line: string): void => void process.stderr.write(`${line}\n`);

try {
  const config = loadConfigFromProcess();
  const running = await start(config, log);
  running.app.log.info({ url: running.url, console: `${config.publicUrl}/` }, readyMessage(config, running.url));
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) running.app.log.error({ err }, 'shutting down after an error');
    else running.app.log.info({ signal }, 'shutting down');
    await running.stop();
  });
} catch (error) {
  if (error instanceof ConfigError) log(error.message);
  else log(`Tessera failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
