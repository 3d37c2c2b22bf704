import { join } from 'node:path';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The repository root: the image build context (lib/image/Dockerfile compiles functions/). */
const ROOT = join(__dirname, '..');

/**
 * One image serves every job: the Lambda Node.js 22 base image plus the PostgreSQL client tools.
 * Only the handler command differs, so every function shares one asset. Building happens at
 * deploy time; `cdk synth` only stages the context, so it needs no Docker.
 */
export function pgmaintImage(
  handler: string,
  architecture: lambda.Architecture = lambda.Architecture.X86_64,
): lambda.DockerImageCode {
  return lambda.DockerImageCode.fromImageAsset(ROOT, {
    file: 'lib/image/Dockerfile',
    cmd: [handler],
    // The image must match the functions' processor, whatever machine runs `cdk deploy`.
    platform: architecture === lambda.Architecture.ARM_64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
    // Only what the image build reads, so editing docs or tests does not rebuild the image.
    exclude: [
      '**',
      '!functions/**',
      '!sql/**',
      '!lib/image/**',
      '!package.json',
      '!package-lock.json',
      '!tsconfig*.json',
    ],
  });
}
