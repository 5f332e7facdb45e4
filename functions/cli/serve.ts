import { Env } from '../contract.js';
import { serve } from '../local/serve.js';
import { UsageError } from '../oci/errors.js';
import { proxySettingsFromEnv } from '../oci/proxy.js';
import { parseEcrRepositoryPrefixes } from '../runs/ecr-scope.js';
import { createCliLogger } from './log.js';
import type { ServeFlags } from './main.js';
import { registryEndpoints } from './runtime.js';

/** The `ferry serve` command: starts the local API (functions/local) and runs until SIGINT/SIGTERM. */
export async function runServe(flags: ServeFlags): Promise<number> {
  const regions = new Map(
    flags.regionRegistry.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--region-registry "${pair}" must be REGION=HOST`);
      return [pair.slice(0, eq), pair.slice(eq + 1)] as const;
    }),
  );
  const home = flags.homeRegistry;
  // The developer's own credentials: no ECR limit unless FERRY_ECR_REPOSITORY_PREFIXES (comma-separated) is set, read as the Lambdas read it.
  const rawPrefixes = process.env[Env.ecrRepositoryPrefixes];
  const ecrPrefixes = rawPrefixes === undefined ? undefined : parseEcrRepositoryPrefixes(rawPrefixes);
  const server = await serve({
    ...(ecrPrefixes ? { ecrRepositoryPrefixes: ecrPrefixes } : {}),
    host: flags.host,
    port: flags.port,
    ...(flags.taskDeadline === undefined ? {} : { taskDeadlineSeconds: flags.taskDeadline }),
    ...(flags.token === undefined ? {} : { token: flags.token }),
    ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
    logger: createCliLogger(process.env.FERRY_DEBUG === '1'),
    transport: {
      insecureHosts: flags.insecure,
      verifyHosts: flags.tlsVerify,
      endpoints: registryEndpoints(flags.registryEndpoint),
      proxy: proxySettingsFromEnv(process.env),
    },
    ...(home
      ? {
          home: {
            registry: home,
            registryForRegion: (region: string) => {
              const found = regions.get(region);
              if (!found)
                throw new UsageError(
                  `no registry for region ${region} (start serve with --region-registry ${region}=HOST)`,
                );
              return found;
            },
          },
        }
      : {}),
  });
  // Listen for the signals before saying we are up: whoever waits for that line may stop us at once.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const { resumed, failed } = server.recovered;
  if (resumed.length + failed.length > 0) {
    process.stderr.write(
      `Runs left in progress by the previous ferry serve: ${resumed.length} resumed, ${failed.length} failed (their inline credentials were in its memory)\n`,
    );
  }
  process.stderr.write(
    `Ferry API listening on ${server.url} (state ${flags.dataDir ? `in ${flags.dataDir}` : 'in memory'}${flags.token === undefined ? '' : '; bearer token required'}); Ctrl-C stops it\n`,
  );
  await stopped;
  await server.close();
  return 0;
}
