import { Env } from '../functions/contract.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, Json> }>;
}

/** The ARN the local runtime recognises a task function by. */
export const localTaskArn = (task: string): string => `arn:aws:lambda:local:000000000000:function:ferry-${task}`;

/**
 * Turns the synthesized state machine's `DefinitionString` (an `Fn::Join` of strings and
 * `Fn::GetAtt`/`Ref` tokens) into plain ASL: each function ARN becomes {@link localTaskArn} of
 * the task the function serves (its `FERRY_TASK`), pseudo parameters become local values.
 * This is how `ferry serve` runs the one workflow definition the stack deploys.
 */
export function extractWorkflowDefinition(template: Template): Json {
  const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine in the template, found ${machines.length}`);
  const definition = machines[0]!.Properties?.DefinitionString;
  const taskOf = (logicalId: string): string => {
    const resource = template.Resources[logicalId];
    const env = resource?.Properties?.Environment as { Variables?: Record<string, Json> } | undefined;
    const task = env?.Variables?.[Env.task];
    if (resource?.Type !== 'AWS::Lambda::Function' || typeof task !== 'string')
      throw new Error(`${logicalId} is not a Ferry task function`);
    return task;
  };
  const resolve = (token: Json): string => {
    if (typeof token === 'string') return token;
    if (token && typeof token === 'object' && !Array.isArray(token)) {
      const getAtt = token['Fn::GetAtt'];
      if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && typeof getAtt[0] === 'string')
        return localTaskArn(taskOf(getAtt[0]));
      const ref = token.Ref;
      if (ref === 'AWS::Partition') return 'aws';
      if (ref === 'AWS::Region') return 'local';
      if (ref === 'AWS::AccountId') return '000000000000';
      if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    }
    throw new Error(`cannot resolve ${JSON.stringify(token)} in the state machine definition`);
  };
  let text: string;
  if (typeof definition === 'string') text = definition;
  else if (
    definition &&
    typeof definition === 'object' &&
    !Array.isArray(definition) &&
    Array.isArray(definition['Fn::Join'])
  ) {
    const [separator, parts] = definition['Fn::Join'] as [string, Json[]];
    text = parts.map(resolve).join(separator);
  } else throw new Error('unexpected DefinitionString shape');
  return JSON.parse(text) as Json;
}
