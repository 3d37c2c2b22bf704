/** A CloudFormation value read back as text: each Ref as <Id>, each GetAtt as <Id.Attribute>. */
export function templateText(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = (value ?? {}) as Record<string, unknown>;
  if ('Ref' in node) return `<${node.Ref}>`;
  if ('Fn::GetAtt' in node) return `<${(node['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(templateText).join(separator);
  }
  throw new Error(`not a string, Ref, GetAtt or Join: ${JSON.stringify(value)}`);
}

/** A schedule's target Input as the JSON Scheduler sends, with the template's references named. */
export function scheduleInput(target: unknown): Record<string, unknown> {
  return JSON.parse(templateText((target as { Input?: unknown } | undefined)?.Input));
}

/** Whether a schedule's target is the universal ECS RunTask target (a run on Fargate). */
export function runsTask(schedule: unknown): boolean {
  const arn = (schedule as { Properties?: { Target?: { Arn?: unknown } } } | undefined)?.Properties?.Target
    ?.Arn;
  return (
    typeof arn === 'object' && templateText(arn) === 'arn:<AWS::Partition>:scheduler:::aws-sdk:ecs:runTask'
  );
}
