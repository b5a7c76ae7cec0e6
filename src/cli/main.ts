// The `gold` binary's entry point.
import { buildProgram } from './program.js';

await buildProgram().parseAsync(process.argv);
