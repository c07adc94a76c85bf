// @ts-nocheck -- vendored verbatim (apart from the import paths marked "was"); not our code style.
// From dorny/test-reporter (https://github.com/dorny/test-reporter), commit 29672c52a8220c09bd9f79b5b6cf6315f1763996,
// file src/parsers/java-junit/java-junit-types.ts. The MIT License (MIT), Copyright (c) 2021 Michal Dorner and contributors:
// see ./LICENSE. Vendored so the tests read our JUnit with the parser the GitHub action runs.
export interface JunitReport {
  testsuites: TestSuites
}

export interface SingleSuiteReport {
  testsuite: TestSuite
}

export interface TestSuites {
  $: {
    time: string
  }
  testsuite?: TestSuite[]
}

export interface TestSuite {
  $: {
    name: string
    tests: string
    errors: string
    failures: string
    skipped: string
    time: string
    timestamp?: Date
  }
  testcase: TestCase[]
}

export interface TestCase {
  $: {
    classname: string
    file?: string
    name: string
    time: string
  }
  failure?: string | Failure[]
  error?: string | Failure[]
  skipped?: string[]
}

export interface Failure {
  _: string
  $: {
    type?: string
    message: string
  }
}
