// @ts-nocheck -- vendored verbatim (apart from the import paths marked "was"); not our code style.
// From dorny/test-reporter (https://github.com/dorny/test-reporter), commit 29672c52a8220c09bd9f79b5b6cf6315f1763996,
// file src/parsers/java-junit/java-stack-trace-element-parser.ts. The MIT License (MIT), Copyright (c) 2021 Michal Dorner and contributors:
// see ./LICENSE. Vendored so the tests read our JUnit with the parser the GitHub action runs.
export interface StackTraceElement {
  classLoader: string | undefined
  moduleNameAndVersion: string | undefined
  tracePath: string
  fileName: string
  lineStr: string
}

// classloader and module name are optional:
// at <CLASSLOADER>/<MODULE_NAME_AND_VERSION>/<FULLY_QUALIFIED_METHOD_NAME>(<FILE_NAME>:<LINE_NUMBER>)
// https://github.com/eclipse-openj9/openj9/issues/11452#issuecomment-754946992
const re = /^\s*at (\S+\/\S*\/)?(.*)\((.*):(\d+)\)$/

export function parseStackTraceElement(stackTraceLine: string): StackTraceElement | undefined {
  const match = stackTraceLine.match(re)
  if (match !== null) {
    const [_, maybeClassLoaderAndModuleNameAndVersion, tracePath, fileName, lineStr] = match
    const {classLoader, moduleNameAndVersion} = parseClassLoaderAndModule(maybeClassLoaderAndModuleNameAndVersion)
    return {
      classLoader,
      moduleNameAndVersion,
      tracePath,
      fileName,
      lineStr
    }
  }
  return undefined
}

function parseClassLoaderAndModule(maybeClassLoaderAndModuleNameAndVersion?: string): {
  classLoader?: string
  moduleNameAndVersion?: string
} {
  if (maybeClassLoaderAndModuleNameAndVersion) {
    const res = maybeClassLoaderAndModuleNameAndVersion.split('/')
    const classLoader = res[0]
    let moduleNameAndVersion: string | undefined = res[1]
    if (moduleNameAndVersion === '') {
      moduleNameAndVersion = undefined
    }
    return {classLoader, moduleNameAndVersion}
  }
  return {classLoader: undefined, moduleNameAndVersion: undefined}
}
