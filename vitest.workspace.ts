// The test projects. vitest 4 no longer reads this file by itself: vitest.config.ts feeds it to
// `test.projects`.
export default ['packages/*/vitest.config.ts', 'examples/*/vitest.config.ts', 'reliability/vitest.config.ts']
