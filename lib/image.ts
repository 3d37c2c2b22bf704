import { join } from 'node:path';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The repository root: the image build context (lib/image/Dockerfile compiles functions/). */
const ROOT = join(__dirname, '..');

/**
 * How a Fargate task starts the image: the `pgmaint` CLI (bin/pgmaint.js, copied beside the
 * compiled functions), in place of the Lambda base image's runtime entrypoint. The task's command
 * is then the CLI's arguments (see functions/shared/fargate-task.ts `taskCommand`).
 */
export const CLI_ENTRYPOINT: readonly string[] = ['node', '/var/task/bin/pgmaint.js'];

/** The image's build: the same options, hence the same asset, for the functions and the tasks. */
function imageBuild(architecture: lambda.Architecture) {
  return {
    file: 'lib/image/Dockerfile',
    // The image must match the functions' processor, whatever machine runs `cdk deploy`.
    platform: architecture === lambda.Architecture.ARM_64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
    // Only what the image build reads, so editing docs or tests does not rebuild the image.
    exclude: [
      '**',
      '!bin/**',
      '!functions/**',
      '!sql/**',
      '!lib/image/**',
      '!package.json',
      '!package-lock.json',
      '!tsconfig*.json',
    ],
  };
}

/**
 * One image serves every job: the Lambda Node.js 22 base image plus the PostgreSQL client tools.
 * Only the handler command differs, so every function shares one asset. Building happens at
 * deploy time; `cdk synth` only stages the context, so it needs no Docker.
 */
export function pgmaintImage(
  handler: string,
  architecture: lambda.Architecture = lambda.Architecture.X86_64,
): lambda.DockerImageCode {
  return lambda.DockerImageCode.fromImageAsset(ROOT, { ...imageBuild(architecture), cmd: [handler] });
}

/** The same image for the Fargate tasks (one asset with the functions': same context, same options). */
export function pgmaintContainerImage(
  architecture: lambda.Architecture = lambda.Architecture.X86_64,
): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(ROOT, imageBuild(architecture));
}
