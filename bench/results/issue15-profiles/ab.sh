#!/bin/sh
# ab.sh A_BIN B_BIN OUT_PREFIX BENCH [ROUNDS]  (env A_ENV / B_ENV: extra env for each side)
A=$1; B=$2; OUT=$3; BENCH=$4; N=${5:-8}
: > $OUT-a.txt; : > $OUT-b.txt
for i in $(seq $N); do
  env $A_ENV $A -test.run '^$' -test.bench "$BENCH" -test.benchmem -test.count 1 >> $OUT-a.txt
  env $B_ENV $B -test.run '^$' -test.bench "$BENCH" -test.benchmem -test.count 1 >> $OUT-b.txt
done
/work/wt-15b/.tools/bin/benchstat -col .file $OUT-a.txt $OUT-b.txt 2>/dev/null || /work/wt-15b/.tools/bin/benchstat $OUT-a.txt $OUT-b.txt
