"""Rewrites the traced VisionAttention pattern (packed in_proj MatMul+Add -> Reshape -> Transpose(2,0,3,1,4)
-> Gather q/k/v -> scaled QK^T -> Softmax -> PV -> Transpose -> Reshape) into one com.microsoft Attention node."""

import sys
from pathlib import Path

import onnx
from onnx import helper, numpy_helper


def fuse_packed_attention(model: onnx.ModelProto, num_heads: int) -> int:
    g = model.graph
    prod = {o: n for n in g.node for o in n.output}
    cons: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            cons.setdefault(i, []).append(n)
    inits = {t.name for t in g.initializer}
    const_nodes = {n.output[0]: n for n in g.node if n.op_type == "Constant"}

    def scalar_int(name):
        if name in const_nodes:
            return int(numpy_helper.to_array(const_nodes[name].attribute[0].t))
        for t in g.initializer:
            if t.name == name:
                return int(numpy_helper.to_array(t))
        return None

    def attr(n, k):
        for a in n.attribute:
            if a.name == k:
                return helper.get_attribute_value(a)
        return None

    new_nodes, drop, count = [], set(), 0
    for sm in [n for n in g.node if n.op_type == "Softmax"]:
        mm1 = prod.get(sm.input[0])
        if mm1 is None or mm1.op_type != "MatMul" or len(cons.get(sm.output[0], [])) != 1:
            continue
        mm2 = cons[sm.output[0]][0]
        qs, kt = prod.get(mm1.input[0]), prod.get(mm1.input[1])
        if not (qs and kt and qs.op_type == "Mul" and kt.op_type == "Transpose" and mm2.op_type == "MatMul"):
            continue
        gq, gk, gv = prod.get(qs.input[0]), prod.get(kt.input[0]), prod.get(mm2.input[1])
        if not all(x is not None and x.op_type == "Gather" for x in (gq, gk, gv)):
            continue
        if len({gq.input[0], gk.input[0], gv.input[0]}) != 1 or [
            scalar_int(x.input[1]) for x in (gq, gk, gv)
        ] != [0, 1, 2]:
            continue
        tr = prod.get(gq.input[0])
        if tr is None or tr.op_type != "Transpose" or list(attr(tr, "perm")) != [2, 0, 3, 1, 4]:
            continue
        rs = prod.get(tr.input[0])
        add = prod.get(rs.input[0]) if rs is not None and rs.op_type == "Reshape" else None
        if add is None or add.op_type != "Add":
            continue
        bias = next((i for i in add.input if i in inits), None)
        mm0 = prod.get(next((i for i in add.input if i != bias), ""))
        if bias is None or mm0 is None or mm0.op_type != "MatMul" or mm0.input[1] not in inits:
            continue
        t2 = cons.get(mm2.output[0], [None])[0]
        r2 = cons.get(t2.output[0], [None])[0] if t2 is not None and t2.op_type == "Transpose" else None
        if r2 is None or r2.op_type != "Reshape" or list(attr(t2, "perm")) != [0, 2, 1, 3]:
            continue
        # the removed chain must not feed anything else
        chain = [mm0, add, rs, tr, gq, gk, gv, qs, kt, mm1, sm, mm2, t2]
        if any(len(cons.get(n.output[0], [])) != (3 if n is tr else 1) for n in chain):
            continue
        new_nodes.append(
            (
                r2,
                helper.make_node(
                    "Attention",
                    [mm0.input[0], mm0.input[1], bias],
                    [r2.output[0]],
                    name=f"FusedAttention_{count}",
                    domain="com.microsoft",
                    num_heads=num_heads,
                ),
            )
        )
        drop.update(id(n) for n in chain + [r2])
        count += 1
    if not count:
        return 0
    replace = {id(old): new for old, new in new_nodes}
    kept = []
    for n in g.node:
        if id(n) in replace:
            kept.append(replace[id(n)])
        elif id(n) not in drop:
            kept.append(n)
    # dead-code elimination (the scale's shape arithmetic is left orphaned)
    needed = {o.name for o in g.output}
    live = []
    for n in reversed(kept):
        if any(o in needed for o in n.output):
            live.append(n)
            needed.update(n.input)
    del g.node[:]
    g.node.extend(reversed(live))
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return count


if __name__ == "__main__":
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    m = onnx.load(str(src))
    print("fused", fuse_packed_attention(m, int(sys.argv[3]) if len(sys.argv) > 3 else 12))
    dst.parent.mkdir(parents=True, exist_ok=True)
    ext = (src.parent / (src.name + ".data")).exists()
    for f in (dst, dst.parent / (dst.name + ".data")):
        f.unlink(missing_ok=True)
    onnx.save(
        m,
        str(dst),
        save_as_external_data=ext,
        all_tensors_to_one_file=True,
        location=dst.name + ".data",
        size_threshold=1024,
    )
