/**
 * The container-start wrapper behind `DataTier.connectionUrlCommand`: a POSIX `sh` script that
 * builds `DATABASE_URL` and `REDIS_URL` from the settings `bindToContainer` hands over (the plain
 * ones, and `PGUSER`, `PGPASSWORD`, `REDIS_AUTH_TOKEN`, which ECS reads from Secrets Manager at
 * each task start) and then `exec`s the app's own command.
 *
 * It needs nothing but `/bin/sh` (dash, bash, busybox ash): percent-encoding is done with shell
 * builtins only. Its output is the same as `database_url()`/`redis_url()` of the Python helper
 * (agents/python-data-tier/data_tier_urls.py): every byte other than letters, digits and `-._~`
 * is percent-encoded. Kept apart from data-tier.ts so its tests can run it as it is synthesized.
 */
import { Token } from 'aws-cdk-lib';
import { DATA_TIER_ENV as E, DATA_TIER_PG_SSL_MODE } from '../contract/data-tier';

/** `$0` of the wrapper: what `sh` names itself in its error messages. */
export const CONNECTION_URL_WRAPPER_NAME = 'data-tier-urls';

/** After `VAR`, in the message of a missing setting (no quote: it sits inside "${VAR:?...}"). */
const HINT = 'is not set: give the container the data tier settings with dataTier.bindToContainer(container)';

/**
 * The script. Every missing setting stops the container before the app starts, with a message
 * on stderr naming the variable; nothing is printed otherwise (the URLs hold the password).
 */
export const CONNECTION_URL_SCRIPT = [
  'set -eu',
  // enc VALUE: percent-encode every byte but A-Z a-z 0-9 - . _ ~ (RFC 3986 unreserved).
  // LC_ALL=C (inside the $(...) that calls it): bash with a UTF-8 locale would step by character, not byte.
  'enc() { LC_ALL=C; s=$1; o=; while [ -n "$s" ]; do r=${s#?}; c=${s%"$r"}; s=$r; ' +
    'case $c in [ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-]) o=$o$c;; *) o=$o$(printf %%%02X "\'$c");; esac; done; printf %s "$o"; }',
  // hp HOST PORT: host:port, an IPv6 literal in brackets.
  'hp() { case $1 in *:*) printf \'[%s]:%s\' "$1" "$2";; *) printf %s:%s "$1" "$2";; esac; }',
  // port NAME VALUE: 1 to 65535, else stop.
  'port() { case $2 in \'\'|*[!0-9]*|0*) false;; *) [ ${#2} -le 5 ] && [ "$2" -le 65535 ];; esac || ' +
    '{ echo "' + CONNECTION_URL_WRAPPER_NAME + ': $1 must be a port number (1-65535), got \'$2\'" >&2; exit 64; }; }',
  ...[E.pgHost, E.pgDatabase, E.pgUser, E.pgPassword, E.redisHost].map((name) => `: "\${${name}:?${HINT}}"`),
  `pp=\${${E.pgPort}:-5432}; port ${E.pgPort} "$pp"`,
  `rp=\${${E.redisPort}:-6379}; port ${E.redisPort} "$rp"`,
  `case \${${E.redisTls}:-true} in true) rs=rediss;; false) rs=redis;; *) echo "${CONNECTION_URL_WRAPPER_NAME}: ${E.redisTls} must be true or false, got '$${E.redisTls}'" >&2; exit 64;; esac`,
  // With a CA bundle (PGSSLROOTCERT), 'require' becomes 'verify-full': libpq checks the certificate and host name only then.
  `m=\${${E.pgSslMode}:-${DATA_TIER_PG_SSL_MODE}}; [ -z "\${${E.pgSslRootCert}:-}" ] || [ "$m" != require ] || m=verify-full`,
  'q="sslmode=$(enc "$m")"',
  `[ -z "\${${E.pgSslRootCert}:-}" ] || q="$q&sslrootcert=$(enc "$${E.pgSslRootCert}")"`,
  `ra=; [ -z "\${${E.redisAuthToken}:-}" ] || ra=":$(enc "$${E.redisAuthToken}")@"`,
  `${E.databaseUrl}="postgresql://$(enc "$${E.pgUser}"):$(enc "$${E.pgPassword}")@$(hp "$${E.pgHost}" "$pp")/$(enc "$${E.pgDatabase}")?$q"`,
  `${E.redisUrl}="$rs://$ra$(hp "$${E.redisHost}" "$rp")"`,
  `export ${E.databaseUrl} ${E.redisUrl}`,
  `[ $# -gt 0 ] || { echo "${CONNECTION_URL_WRAPPER_NAME}: no command to run after building the URLs" >&2; exit 64; }`,
  'exec "$@"',
].join('\n');

/** `['/bin/sh', '-c', <script>, 'data-tier-urls', ...command]`; refuses an empty command. */
export function connectionUrlCommand(command: string[]): string[] {
  if (!Token.isUnresolved(command) && command.length === 0) {
    throw new Error('DataTier.connectionUrlCommand: command is empty; give the command that starts your app (the image\'s CMD, which a ' +
      'container command replaces), e.g. [\'uvicorn\', \'app.main:app\', \'--host\', \'0.0.0.0\', \'--port\', \'8000\']');
  }
  return ['/bin/sh', '-c', CONNECTION_URL_SCRIPT, CONNECTION_URL_WRAPPER_NAME, ...command];
}
