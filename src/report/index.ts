// Reporters: pure functions of a RunResult (they never talk to a cluster), plus the session that
// writes them.
export { renderJunit, type JunitOptions } from './junit.js';
export { renderResultJson } from './result-json.js';
export {
  classroomResult,
  classroomError,
  classroomScores,
  encodeClassroomResult,
  renderClassroomJson,
  type ClassroomResult,
  type ClassroomTest,
  type ClassroomStatus,
  type ClassroomOptions,
} from './classroom.js';
export { renderSummary } from './summary-md.js';
export { githubAnnotations, escapeData, escapeProperty } from './github.js';
export { writeReports, writeFileAtomic, type WriteOptions, type WrittenReports } from './write.js';
export { ReportSession, type ReportSessionOptions, type FinalizeOptions, type FinalizeOutcome } from './session.js';
export { groupChecks, groupVerdict, scoreOf, formatDuration } from './groups.js';
