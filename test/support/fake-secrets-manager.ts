import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsClient } from '../../functions/aws/secrets-vault.js';

interface StoredSecret {
  arn: string;
  name: string;
  value: string;
  tags: { Key: string; Value: string }[];
  created: Date;
}

const awsError = (name: string): Error => Object.assign(new Error(name), { name });

/**
 * Secrets Manager's control plane as far as the vault uses it, in memory (the AWS API itself is
 * not reachable here). `denied` secrets answer AccessDeniedException, as IAM would for a secret
 * the stack's policy does not cover. Every command is recorded.
 */
export class FakeSecretsManager {
  readonly secrets = new Map<string, StoredSecret>();
  readonly commands: { name: string; input: Record<string, unknown> }[] = [];
  readonly denied = new Set<string>();
  #counter = 0;

  /** Puts a secret as an operator would (tags optional); returns its ARN. */
  put(name: string, value: unknown, tags: Record<string, string> = {}, created = new Date()): string {
    const arn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-${String(++this.#counter).padStart(6, 'a')}`;
    this.secrets.set(arn, {
      arn,
      name,
      value: typeof value === 'string' ? value : JSON.stringify(value),
      tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      created,
    });
    return arn;
  }

  #find(id: unknown): StoredSecret {
    const found = [...this.secrets.values()].find((s) => s.arn === id || s.name === id);
    if (!found) throw awsError('ResourceNotFoundException');
    if (this.denied.has(found.arn)) throw awsError('AccessDeniedException');
    return found;
  }

  readonly client: SecretsClient = {
    send: ((command: { input: Record<string, unknown> }) => {
      this.commands.push({ name: command.constructor.name, input: command.input });
      try {
        return Promise.resolve(this.#answer(command));
      } catch (err) {
        return Promise.reject(err);
      }
    }) as SecretsClient['send'],
  };

  #answer(command: { input: Record<string, unknown> }): unknown {
    const input = command.input;
    if (command instanceof GetSecretValueCommand) {
      const s = this.#find(input.SecretId);
      return { ARN: s.arn, Name: s.name, SecretString: s.value };
    }
    if (command instanceof DescribeSecretCommand) {
      const s = this.#find(input.SecretId);
      return { ARN: s.arn, Name: s.name, Tags: s.tags, CreatedDate: s.created };
    }
    if (command instanceof CreateSecretCommand) {
      const name = String(input.Name);
      if ([...this.secrets.values()].some((s) => s.name === name)) throw awsError('ResourceExistsException');
      const tags = (input.Tags as { Key: string; Value: string }[] | undefined) ?? [];
      const arn = this.put(name, String(input.SecretString), Object.fromEntries(tags.map((t) => [t.Key, t.Value])));
      return { ARN: arn, Name: name };
    }
    if (command instanceof ListSecretsCommand) {
      const filters = (input.Filters as { Key: string; Values: string[] }[] | undefined) ?? [];
      const prefixes = filters.filter((f) => f.Key === 'name').flatMap((f) => f.Values);
      const list = [...this.secrets.values()].filter(
        (s) => prefixes.length === 0 || prefixes.some((p) => s.name.startsWith(p)),
      );
      return { SecretList: list.map((s) => ({ ARN: s.arn, Name: s.name, Tags: s.tags, CreatedDate: s.created })) };
    }
    if (command instanceof DeleteSecretCommand) {
      const s = this.#find(input.SecretId);
      this.secrets.delete(s.arn);
      return { ARN: s.arn, Name: s.name };
    }
    throw new Error(`FakeSecretsManager: ${command.constructor.name} is not modelled`);
  }
}
