/**
 * The contract between the deployment (lib/), a job's Lambda function handing a run to Fargate,
 * and the container the task runs. lib/ sets these variables on every job function; the hand-off
 * reads them; both build the container's command with `taskCommand`.
 */
export const FARGATE_ENV = {
  /** ARN of the ECS cluster the tasks run in. */
  cluster: 'PGMAINT_FARGATE_CLUSTER',
  /** ARN of this job's task definition (one per job; a target's sizing goes in as RunTask overrides). */
  taskDefinition: 'PGMAINT_FARGATE_TASK_DEFINITION',
  /** Name of the job's container in that task definition. */
  container: 'PGMAINT_FARGATE_CONTAINER',
  /** Comma-separated subnet ids (awsvpc). */
  subnets: 'PGMAINT_FARGATE_SUBNETS',
  /** Comma-separated security group ids. */
  securityGroups: 'PGMAINT_FARGATE_SECURITY_GROUPS',
  /** "ENABLED" or "DISABLED" (default: no public IP). */
  assignPublicIp: 'PGMAINT_FARGATE_ASSIGN_PUBLIC_IP',
} as const;

/**
 * Set to "fargate" on the job's container by the task definition: the CLI then runs as the
 * deployment's run (result JSON on stdout, EMF metrics on stderr), not as a person's.
 */
export const TASK_RUNTIME_ENV = 'PGMAINT_RUNTIME';

/**
 * The container command of one run: the CLI, exactly as a person would run it, with the event the
 * schedule or the Lambda run received (without `target`) passed whole so nothing is lost in
 * translation to flags. The image's entrypoint is `pgmaint`.
 */
export function taskCommand(
  job: string,
  target: string,
  event: Readonly<Record<string, unknown>> = {},
): string[] {
  const { target: _target, ...options } = event;
  const command = [job, '--target', target];
  if (Object.keys(options).length > 0) command.push('--event', JSON.stringify(options));
  return command;
}
