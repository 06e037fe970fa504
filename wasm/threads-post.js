// kiln (threaded build): in Node, idle pthread workers must not keep the process alive.
if (ENVIRONMENT_IS_NODE && !ENVIRONMENT_IS_PTHREAD) {
  addOnPostRun(function() {
    PThread.unusedWorkers.concat(PThread.runningWorkers).forEach(function(w) { w.unref(); });
  });
}
