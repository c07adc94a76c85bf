// Generated from runner/ktap/status.ts by scripts/page-status.mjs (npm run build): do not edit.
'use strict';
globalThis.KUNIT_BRIDGE_STATUS = Object.freeze([
  {"status":"pass","effect":"pass","shown":"pass","badge":"pass","rank":3,"count":"passed","countLabel":"passed","summary":0},
  {"status":"xfail","effect":"pass","shown":"pass","badge":"xfail","rank":3,"count":"xfail","countLabel":"xfail","summary":8},
  {"status":"skip","effect":"neutral","shown":"skip","badge":"skip","rank":1,"count":"skipped","countLabel":"skipped","summary":6},
  {"status":"todo","effect":"neutral","shown":"skip","badge":"todo","rank":2,"count":"todo","countLabel":"todo","summary":7},
  {"status":"no-tests","effect":"neutral","shown":"skip","badge":"empty","rank":0,"count":null,"countLabel":null,"summary":-1},
  {"status":"not-run","effect":"incomplete","shown":"skip","badge":"not run","rank":4,"count":"notRun","countLabel":"not run","summary":9},
  {"status":"fail","effect":"fail","shown":"fail","badge":"fail","rank":5,"count":"failed","countLabel":"failed","summary":1},
  {"status":"error","effect":"fail","shown":"fail","badge":"error","rank":6,"count":"errors","countLabel":"errors","summary":4},
  {"status":"timeout","effect":"fail","shown":"fail","badge":"timeout","rank":7,"count":"timeout","countLabel":"timed out","summary":3},
  {"status":"incomplete","effect":"incomplete","shown":"fail","badge":"incomplete","rank":8,"count":"incomplete","countLabel":"incomplete","summary":5},
  {"status":"crashed","effect":"incomplete","shown":"fail","badge":"crash","rank":9,"count":"crashed","countLabel":"crashed","summary":2},
]);
