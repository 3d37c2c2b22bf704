import { serverMatrixSuite } from '../helpers/server-matrix';

serverMatrixSuite(18);
