import { inject } from 'vitest';

// Every AWS SDK client in the test process (and in CLI children that inherit env) talks to the
// emulator, with throwaway credentials.
process.env.AWS_ENDPOINT_URL = inject('awsEndpoint');
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_DEFAULT_REGION = 'us-east-1';

// The client the Lambda ships, for the tools the tests run themselves, the CLI and the handler.
process.env.PGMAINT_PG_BINDIR = inject('pgClientBindir');
