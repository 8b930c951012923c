// Dihedral-invariant pooling layer: expand to the 8 transforms, run the body,
// average the pooled features, run the rest; the kernels are this folder's own
// (dihedral_pool_cpu.cpp, dihedral_pool.cu), dispatched here by device.
#include "layers/custom/dihedral_pool/dihedral_pool.h"

#include "kernels/dispatch.h"
#include "layers/custom/dihedral_pool/dihedral_pool_kernels.h"
#include "layers/registry.h"

namespace gcnn {

namespace dihedral {
namespace {
void check_square(const char* op, const Tensor& x) {
  GCNN_CHECK(x.ndim() == 4 && x.dim(2) == x.dim(3), "{}: input {} must be [N, C, S, S] (square images)", op,
             x.describe());
}
// big has 8 times the rows of small and the same shape otherwise.
void check_expanded(const char* op, const Tensor& small, const Tensor& big) {
  Shape expected = small.shape();
  expected.at(0) *= kTransforms;
  check_shape(op, "expanded", big, expected);
}
}  // namespace

void expand(const Tensor& x, Tensor& xs) {
  check_square("dihedral expand", x);
  check_expanded("dihedral expand", x, xs);
  if (x.numel() == 0) return;
  dispatch("dihedral expand", {&x, &xs}, [&] { cpu::expand(x, xs); }, [&] { cuda::expand(x, xs); });
}

void fold(const Tensor& dxs, Tensor& dx) {
  check_square("dihedral fold", dx);
  check_expanded("dihedral fold", dx, dxs);
  if (dx.numel() == 0) return;
  dispatch("dihedral fold", {&dxs, &dx}, [&] { cpu::fold(dxs, dx); }, [&] { cuda::fold(dxs, dx); });
}

void mean(const Tensor& h, Tensor& y) {
  check_expanded("dihedral mean", y, h);
  if (y.numel() == 0) return;
  dispatch("dihedral mean", {&h, &y}, [&] { cpu::mean(h, y); }, [&] { cuda::mean(h, y); });
}

void mean_grad(const Tensor& dy, Tensor& dh) {
  check_expanded("dihedral mean_grad", dy, dh);
  if (dy.numel() == 0) return;
  dispatch("dihedral mean_grad", {&dy, &dh}, [&] { cpu::mean_grad(dy, dh); }, [&] { cuda::mean_grad(dy, dh); });
}
}  // namespace dihedral

Shape DihedralPool::output_shape(const Shape& in) const {
  GCNN_CHECK(in.size() == 4 && in[2] == in[3], "dihedral_pool: input {} must be [N, C, S, S] (square images)",
             shape_str(in));
  auto layers = const_cast<DihedralPool*>(this)->children();
  GCNN_CHECK(body_size_ > 0 && body_size_ <= layers.size(), "dihedral_pool: body of {} layers out of {}", body_size_,
             layers.size());
  Shape s = in;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    s = layers[i].second->output_shape(s);
    if (i + 1 == body_size_)
      GCNN_CHECK(s.size() == 2, "dihedral_pool: the body must end with pooled features [N, F], got {}", shape_str(s));
  }
  return s;
}

Tensor DihedralPool::forward(const Tensor& x, bool train) {
  output_shape(x.shape());
  Shape expanded = x.shape();
  expanded[0] *= dihedral::kTransforms;
  Tensor h = Tensor::empty(expanded, x.device());
  dihedral::expand(x, h);
  for (std::size_t i = 0; i < body_size_; ++i) h = at(i).forward(h, train);
  Tensor y = Tensor::empty({x.dim(0), h.dim(1)}, x.device());
  dihedral::mean(h, y);
  for (std::size_t i = body_size_; i < size(); ++i) y = at(i).forward(y, train);
  in_shape_ = x.shape();
  return y;
}

Tensor DihedralPool::backward(const Tensor& dy) {
  Tensor g = dy;
  for (std::size_t i = size(); i-- > body_size_;) g = at(i).backward(g);
  Shape pooled = g.shape();
  pooled[0] *= dihedral::kTransforms;
  Tensor gh = Tensor::empty(pooled, g.device());
  dihedral::mean_grad(g, gh);
  for (std::size_t i = body_size_; i-- > 0;) {
    if (i == 0) at(0).needs_input_grad = needs_input_grad;
    gh = at(i).backward(gh);
  }
  if (!needs_input_grad) return Tensor();
  Tensor dx = Tensor::empty(in_shape_, gh.device());
  dihedral::fold(gh, dx);
  return dx;
}

namespace {
LayerPtr make_dihedral_pool(LayerArgs& args) {
  if (args.in_shape.size() != 4 || args.in_shape[2] != args.in_shape[3])
    args.options.fail("body", "dihedral_pool needs square [N, C, S, S] images, got " + shape_str(args.in_shape));
  std::vector<Options> items = args.options.list("body");
  if (items.empty()) args.options.fail("body", "must list the layers to run on each transform, ending with a pool");
  auto pool = std::make_unique<DihedralPool>();
  const Shape out = append_layer_list(*pool, items, args.in_shape);
  if (out.size() != 2)
    args.options.fail("body", "must end with pooled features [N, F] (e.g. avgpool or concat_pool + flatten), got " +
                                  shape_str(out));
  pool->set_body_size(pool->size());
  return pool;
}
}  // namespace

LayerRegistration register_dihedral_pool() {
  return {&make_dihedral_pool,
          "{body: [{type: conv2d, out: 2, kernel: 3, bias: true}, {type: batchnorm}, {type: relu}, {type: avgpool}]}",
          {2, 1, 3, 3}};
}

}  // namespace gcnn
