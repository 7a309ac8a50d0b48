// The replay tests run a real redis-server (Debian's package). On a fresh machine the test command
// installs it when it can (root + apt-get); otherwise it says what to install and the Redis tests
// fail with the same message.
import { execFileSync, spawnSync } from 'node:child_process';

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

if (process.env.REDIS_SERVER || has('redis-server')) process.exit(0);
const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (!root || !has('apt-get')) {
  console.warn(
    'ensure-redis: redis-server is not installed and cannot be installed here; install it (apt-get install redis-server) or set REDIS_SERVER.',
  );
  process.exit(0);
}
console.log('ensure-redis: installing redis-server with apt-get (for the replay tests)...');
try {
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  // Debian's package may start a system service on 6379; the tests use their own servers on free ports.
} catch (err) {
  console.warn(`ensure-redis: apt-get failed (${err.message}); the Redis tests will say what is missing.`);
}
