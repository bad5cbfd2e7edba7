# ctest driver for mnemo_bench_quick: runs `mnemo-bench --quick` into WORK_DIR, then checks its
# results.json with check_results.py.  Fails on a non-zero exit of either; asserts no timing.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
execute_process(
  COMMAND ${BENCH} --quick --out ${WORK_DIR}/out --cache-dir ${WORK_DIR}/cache --no-plots
  RESULT_VARIABLE bench_rc
  OUTPUT_FILE ${WORK_DIR}/report.md)
if(NOT bench_rc EQUAL 0)
  message(FATAL_ERROR "mnemo-bench --quick exited with ${bench_rc}")
endif()
execute_process(COMMAND ${PYTHON} ${CHECK} ${WORK_DIR}/out/results.json RESULT_VARIABLE check_rc)
if(NOT check_rc EQUAL 0)
  message(FATAL_ERROR "results.json check failed")
endif()
