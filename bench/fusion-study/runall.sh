#!/bin/bash
# Interleaved A/B of every variant, both session-creation orders (the first-created session runs up to ~15% slower).
cd /work/fuse-scratch
PY=/work/main/exporter/.venv/bin/python; P=/work/packages/base-random; F=fused
run() { for rev in "" 1; do REVERSE=$rev $PY abn.py "$@" 2>&1 | grep -v -i warn; done; }
run $P text_encoder 30 $F/same,$F/bert-o1-raw,$F/bert-o1-rawmha text:batch=1,tokens=10 text:batch=8,tokens=10
run $P fusion 30 $F/same,$F/bert-o1-raw,$F/bert-o1-rawmha fusion:batch=1,tokens=10,memory=197 fusion:batch=8,tokens=10,memory=197
run $P decoder_step 30 $F/same,$F/bert-o1-raw decoder_step:batch=1,beams=5,past=10,memory=197 decoder_step:batch=8,beams=5,past=10,memory=197
run $P vision 10 $F/same,$F/vis-attn,$F/bert-o1-raw vision:batch=1,frames=1
run $P vision 3 $F/same,$F/vis-attn,$F/bert-o1-raw vision:batch=8,frames=1
run $P vision 1 $F/same,$F/vis-attn vision:batch=1,frames=16
