import { lambdaServices } from '../lambda-root.js';
import { WorkflowTasks } from './workflow-tasks.js';

let tasks: WorkflowTasks | undefined;

/** The workflow tasks of this Lambda container, over its use cases (built once, on first use). */
export function lambdaWorkflowTasks(): WorkflowTasks {
  tasks ??= new WorkflowTasks(lambdaServices().tasks);
  return tasks;
}
