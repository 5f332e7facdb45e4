import { Env, ecrRepositoryPattern, ecrRepositoryPrefixProblem } from '../contract.js';
import { isEcrHostWithOtherPort, parseEcrHost } from '../oci/ecr-host.js';
import { UsageError } from '../oci/errors.js';
import { parseImageReference } from '../oci/reference.js';
import { BadRequestError, EcrScopeError } from './errors.js';

/** A prefix's IAM pattern as a RegExp: `*` matches any characters, `/` included. */
function patternRegExp(prefix: string): RegExp {
  return new RegExp(`^${ecrRepositoryPattern(prefix).split('*').map(escape).join('.*')}$`);
}

/** Validates prefixes; throws UsageError naming the bad one. */
function checkPrefixes(prefixes: readonly string[], where: string): readonly string[] {
  for (const prefix of prefixes) {
    const problem = ecrRepositoryPrefixProblem(prefix);
    if (problem !== undefined) throw new UsageError(`${where}: "${prefix}" ${problem}`);
  }
  return prefixes;
}

/**
 * Reads FERRY_ECR_REPOSITORY_PREFIXES (the stack sets it for the Lambdas, a developer for
 * `ferry serve`): comma-separated prefixes, blanks ignored; empty means no ECR repository at all.
 */
export function parseEcrRepositoryPrefixes(text: string, where: string = Env.ecrRepositoryPrefixes): string[] {
  return [
    ...checkPrefixes(
      text
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== ''),
      where,
    ),
  ];
}

/**
 * The ECR repositories runs may read and write: names matching one of the configured prefixes,
 * with IAM's wildcard meaning (`mirror/` = `mirror/*`, `*` matches anything): the stack grants
 * the same resources ({@link ecrRepositoryPattern}); this check refuses a run before any request, with a message that says what
 * to configure. Registries that are not ECR are not limited here.
 */
export class EcrScope {
  readonly #prefixes: readonly string[];
  readonly #patterns: readonly RegExp[];

  constructor(prefixes: readonly string[]) {
    this.#prefixes = checkPrefixes(prefixes, 'ECR repository prefixes');
    this.#patterns = prefixes.map(patternRegExp);
  }

  /** Why `registry/repository` is refused, or undefined when allowed (or not ECR). */
  refusal(registry: string, repository: string): string | undefined {
    if (isEcrHostWithOtherPort(registry)) return `ECR registry ${registry}: ECR listens on port 443 only`;
    if (!parseEcrHost(registry)) return undefined;
    if (this.#patterns.some((p) => p.test(repository))) return undefined;
    return this.#prefixes.length === 0
      ? `ECR repository ${registry}/${repository}: this deployment may use no ECR repository; set "ecrRepositoryPrefixes" in cdk.json's "ferry" context (e.g. ["mirror/"]) and deploy again`
      : `ECR repository ${registry}/${repository} is outside the repository prefixes this deployment may use (${this.#prefixes.join(', ')}); add a prefix to "ecrRepositoryPrefixes" in cdk.json's "ferry" context`;
  }

  /** Throws EcrScopeError when the repository is refused. */
  check(registry: string, repository: string): void {
    const refusal = this.refusal(registry, repository);
    if (refusal !== undefined) throw new EcrScopeError(refusal);
  }
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The API's check of a run's pairs: a 400 naming the image (or the destination) before anything is written. */
export function checkEcrScope(scope: EcrScope, pairs: readonly { source: string; destination: string }[]): void {
  pairs.forEach((pair, i) => {
    const source = parseImageReference(pair.source);
    const destination = parseImageReference(pair.destination);
    const refusal = scope.refusal(source.registry, source.repository);
    if (refusal !== undefined) throw new BadRequestError(`images[${i}]: ${refusal}`);
    const writeRefusal = scope.refusal(destination.registry, destination.repository);
    if (writeRefusal !== undefined) throw new BadRequestError(`destination: ${writeRefusal}`);
  });
}
