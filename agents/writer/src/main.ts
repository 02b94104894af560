/** The writer: reads the `analysis` artifact and the `topic`, writes the `report` artifact. */
import { writer } from './spec';
import { lambdaHandler, main } from '../../kit/src';

export { writer };

/** Lambda entry point: the event is the task envelope. */
export const handler = lambdaHandler(writer);

if (require.main === module) main(writer);
