function make_fixtures(meganetPath, outDir)
% make_fixtures(meganetPath, outDir)
%
% Evaluates Meganet.m (a checkout at meganetPath) on small random inputs with
% fixed seeds and writes its inputs and outputs as MAT files (-v7) to outDir,
% for tests/test_meganet_m_parity.py. Run by run_fixtures.sh under GNU Octave.
%
% Every case is a struct; element cases hold
%   theta, Y, dtheta, dY, W      inputs (Meganet.m layouts: examples last,
%                                column-major flattening, theta(:))
%   Z, Jthetamv, JYmv,           forward output and Jacobian products
%   JthetaTmv, JYTmv
% The configuration of each case (sizes, options) is repeated on the Python
% side by the case name.
% the paths are set by make_fixtures_paths (run_fixtures.sh calls it first:
% Octave resolves class methods only for classes on the path when it parses this file)
warning('off', 'all');
if ~exist(outDir, 'dir'), mkdir(outDir); end

save_cases(outDir, 'kernels', kernel_cases());
save_cases(outDir, 'layers', layer_cases());
save_cases(outDir, 'normlayers', norm_cases());
save_cases(outDir, 'integrators', integrator_cases());
save_cases(outDir, 'networks', network_cases());
save_cases(outDir, 'linops', linop_cases());
save_cases(outDir, 'losses', loss_cases());
save_cases(outDir, 'regularizers', regularizer_cases());
save_cases(outDir, 'objective', objective_cases());
save_cases(outDir, 'sgd', sgd_cases());
end

% ---------------------------------------------------------------- helpers

function save_cases(outDir, name, S)
f = fullfile(outDir, [name '.mat']);
save('-v7', f, '-struct', 'S');
fprintf('%s: %s\n', f, strjoin(fieldnames(S)', ' '));
end

function seed(k)
rand('twister', k); randn('state', k);
end

function S = probe_element(el, theta, Y)
% forward output and the four Jacobian products at (theta, Y)
fprintf("  %s\n", class(el));
[Z, tmp] = forwardProp(el, theta, Y);
S = directions(theta, Y, Z);
S.Z = Z;
S.Jthetamv = Jthetamv(el, S.dtheta, theta, Y, tmp);
try
  S.JYmv = JYmv(el, S.dY, theta, Y, tmp);
  S.JYmvViaJmv = 0;
catch err
  % ResNN.JYmv reshapes dY to a matrix and then adds the layer's 4-D output;
  % Jmv with dtheta = 0 computes the same product without that reshape
  fprintf('    JYmv failed (%s); using Jmv with dtheta = 0\n', err.message);
  S.JYmv = Jmv(el, zeros(size(theta)), S.dY, theta, Y, tmp);
  S.JYmvViaJmv = 1;
end
try
  S.JthetaTmv = JthetaTmv(el, S.W, theta, Y, tmp);
  S.JthetaTmvViaJTmv = 0;
catch err
  % singleLayer.JthetaTmv passes 'reduceDim' to its norm layer, whose JthetaTmv
  % (batchNormLayer, instNormLayer) takes no options; JTmv (used in training) works
  fprintf('    JthetaTmv failed (%s); using JTmv\n', err.message);
  S.JthetaTmv = JTmv(el, S.W, theta, Y, tmp);
  S.JthetaTmvViaJTmv = 1;
end
S.JYTmv = JYTmv(el, S.W, theta, Y, tmp);
end

function S = probe_kernel(K, theta, Y)
A = getOp(K, theta);
Z = A * Y;
S = directions(theta, Y, Z);
S.Z = Z;
S.Jthetamv = Jthetamv(K, S.dtheta, theta, Y);
S.JYmv = A * S.dY;
S.JthetaTmv = JthetaTmv(K, S.W, theta, Y);
S.JYTmv = A' * S.W;
end

function S = directions(theta, Y, Z)
S.theta = theta; S.Y = Y;
S.dtheta = randn(size(theta));
S.dY = randn(size(Y));
S.W = randn(size(Z));
end

function th = rand_theta(el)
th = randn(nTheta(el), 1);
end

% ---------------------------------------------------------------- kernels
function C = kernel_cases()
seed(1);
K = convFFT([5 6], [3 3 2 3]);
C.convFFT = probe_kernel(K, rand_theta(K), randn(5, 6, 2, 3));
K = dense([4 3]);
C.dense = probe_kernel(K, rand_theta(K), randn(3, 5));
K = getDenseAntiSym([4 4]);
C.denseAntiSym = probe_kernel(K, rand_theta(K), randn(4, 5));
end

% ---------------------------------------------------------------- layers
function C = layer_cases()
seed(2);
nEx = 3;
L = singleLayer(dense([5 4]), 'activation', @tanhActivation, ...
                'Bin', randn(5, 2), 'Bout', randn(5, 1));
C.singleLayer_dense = layer_case(L, randn(4, nEx));
C.singleLayer_dense.Bin = L.Bin; C.singleLayer_dense.Bout = L.Bout;

K = convFFT([4 5], [3 3 2 3]);
L = singleLayer(K, 'activation', @reluActivation, 'Bin', opCNNBias([4 5 3]), ...
                'normLayer', tvNormLayer([4 5 3], 'isWeight', 1));
C.singleLayer_conv = layer_case(L, randn(4, 5, 2, nEx));
% the opening layer of Meganet.m's STL-10 drivers: batch normalization with weights
L = singleLayer(convFFT([4 5], [3 3 2 3]), 'activation', @reluActivation, ...
                'normLayer', batchNormLayer([4 5 3 nEx], 'isWeight', 1));
C.singleLayer_conv_batchNorm = layer_case(L, randn(4, 5, 2, nEx));

L = doubleLayer(dense([5 4]), dense([3 5]), 'activation1', @tanhActivation, ...
                'activation2', @reluActivation, 'Bin1', randn(5, 2), ...
                'Bin2', randn(3, 1), 'Bout', randn(3, 2));
C.doubleLayer_dense = layer_case(L, randn(4, nEx));
C.doubleLayer_dense.Bin1 = L.Bin1; C.doubleLayer_dense.Bin2 = L.Bin2;
C.doubleLayer_dense.Bout = L.Bout;

L = doubleLayer(convFFT([4 5], [3 3 2 3]), convFFT([4 5], [3 3 3 2]), ...
                'Bin1', opCNNBias([4 5 3]), 'Bin2', opCNNBias([4 5 2]), ...
                'normLayer1', tvNormLayer([4 5 3], 'isWeight', 1), ...
                'normLayer2', tvNormLayer([4 5 2], 'isWeight', 1));
C.doubleLayer_conv = layer_case(L, randn(4, 5, 2, nEx));

L = doubleSymLayer(dense([5 4]), 'activation', @tanhActivation, ...
                   'Bin', randn(5, 3), 'Bout', randn(4, 2));
C.doubleSymLayer_dense = layer_case(L, randn(4, nEx));
C.doubleSymLayer_dense.Bin = L.Bin; C.doubleSymLayer_dense.Bout = L.Bout;

L = doubleSymLayer(convFFT([4 5], [3 3 3 3]), 'activation', @reluActivation, ...
                   'Bin', opCNNBias([4 5 3]), ...
                   'normLayer1', tvNormLayer([4 5 3], 'isWeight', 1));
C.doubleSymLayer_conv = layer_case(L, randn(4, 5, 3, nEx));
end

function S = layer_case(L, Y)
S = probe_element(L, rand_theta(L), Y);
end

% ---------------------------------------------------------------- norm layers
function C = norm_cases()
seed(3);
nEx = 4;
C.batchNormLayer = layer_case(batchNormLayer([3 4 2 nEx], 'isWeight', 1), randn(3, 4, 2, nEx));
L = batchNormLayer2([3 4 2], 'isWeight', 1);
C.batchNormLayer2 = layer_case(L, randn(3, 4, 2, nEx));
% the running statistics after one forward pass with batch statistics
C.batchNormLayer2.runningMean = L.runningMean;
C.batchNormLayer2.runningVar = L.runningVar;
% evaluation (doDerivative = false): the running statistics
C.batchNormLayer2.Zeval = forwardProp(L, C.batchNormLayer2.theta, C.batchNormLayer2.Y, ...
                                      'doDerivative', false);
C.batchNormLayer2.runningMeanEval = L.runningMean;
C.instNormLayer = layer_case(instNormLayer([3 4 2], 'isWeight', 1), randn(3, 4, 2, nEx));
C.tvNormLayer = layer_case(tvNormLayer([3 4 2], 'isWeight', 1), randn(3, 4, 2, nEx));
C.tvNormLayer_noWeight = layer_case(tvNormLayer([3 4 2]), randn(3, 4, 2, nEx));
C.affineScalingLayer = layer_case(affineScalingLayer([6 4 nEx]), randn(6, 4, nEx));
C.normLayer = layer_case(normLayer([12 2 1]), randn(12, 2, nEx));
% nData with the number of examples, as normLayer's help says; its JYmv then
% divides by prod(nData) (see test_meganet_m_parity.py): store its forward map at
% Y +- h dY for a finite-difference reference
L = normLayer([12 2 nEx]);
S = layer_case(L, randn(12, 2, nEx));
S.h = 1e-5;
S.Zplus = forwardProp(L, [], S.Y + S.h * S.dY);
S.Zminus = forwardProp(L, [], S.Y - S.h * S.dY);
C.normLayer_nEx = S;
end

% ---------------------------------------------------------------- integrators
function C = integrator_cases()
seed(4);
nEx = 3;
L = singleLayer(dense([4 4]), 'activation', @tanhActivation, 'Bout', ones(4, 1));
C.ResNN = layer_case(ResNN(L, 3, 0.1), randn(4, nEx));

L = doubleSymLayer(convFFT([4 4], [3 3 2 2]), 'activation', @reluActivation, ...
                   'Bin', opCNNBias([4 4 2]), ...
                   'normLayer1', tvNormLayer([4 4 2], 'isWeight', 1));
C.ResNN_conv = layer_case(ResNN(L, 2, 0.5), randn(4, 4, 2, nEx));

L = singleLayer(dense([4 4]), 'activation', @tanhActivation, 'Bout', ones(4, 1));
A = rand(2, 4);
S = layer_case(ResNN(L, 4, 0.25, 'A', A), randn(4, nEx));
S.A = A;
C.ResNN_timeBasis = S;

L = singleLayer(dense([4 4]), 'activation', @tanhActivation, 'Bout', ones(4, 1));
C.ResNNrk4 = layer_case(ResNNrk4(L, linspace(0, 1, 4)), randn(4, nEx));

C.HamiltonianNN = layer_case(HamiltonianNN(@tanhActivation, dense([4 4]), ones(4, 1), 3, 0.2), ...
                             randn(4, nEx));

L1 = doubleSymLayer(dense([3 2]), 'activation', @tanhActivation, 'Bin', ones(3, 1));
L2 = doubleSymLayer(dense([3 2]), 'activation', @tanhActivation, 'Bin', ones(3, 1));
blk = DoubleHamiltonianNN(L1, L2, 3, 0.2);
S = layer_case(blk, randn(4, nEx));
% Meganet.m's JYTmv is not the adjoint of its JYmv: store the adjoint of the
% explicit Jacobian built column by column from Meganet.m's JYmv as well
[~, tmp] = forwardProp(blk, S.theta, S.Y);
J = zeros(numel(S.Z), numel(S.Y));
for k = 1:numel(S.Y)
  e = zeros(size(S.Y)); e(k) = 1;
  J(:, k) = vec(JYmv(blk, e, S.theta, S.Y, tmp));
end
S.JYTmv_fromJYmv = reshape(J' * S.W(:), size(S.Y));
C.DoubleHamiltonianNN = S;

L = doubleSymLayer(dense([5 4]), 'activation', @tanhActivation, 'Bin', ones(5, 1));
C.LeapFrogNN = layer_case(LeapFrogNN(L, 3, 0.3), randn(4, nEx));
end

% ---------------------------------------------------------------- NN, connector, Meganet
function C = network_cases()
seed(5);
nEx = 3;
net = NN({singleLayer(dense([5 4]), 'Bout', ones(5, 1)), ...
          singleLayer(dense([3 5]), 'activation', @reluActivation)});
C.NN = layer_case(net, randn(4, nEx));

Kc = randn(3, 4); bc = randn(3, 1);
S = layer_case(connector(Kc, bc), randn(4, nEx));
S.K = Kc; S.b = bc;
C.connector = S;

% a matrix on flattened image features (4 x 4 x 2, column-major) to 6 features
Kc = randn(6, 32); bc = randn(6, 1);
S = layer_case(connector(Kc, bc), randn(32, nEx));
S.K = Kc; S.b = bc;
C.connector_image = S;

% weights of scale 0.3 keep the final tanh away from saturation (where 1 - tanh^2
% cancels and the products lose digits on both sides)
net = small_meganet();
C.Meganet = probe_element(net, 0.3 * rand_theta(net), randn(4, 4, 1, nEx));

% conv layer, reshape to vectors (column-major), dense layer; and a reshape with a
% permutation of the input dimensions
net = NN({singleLayer(convFFT([4 4], [3 3 1 2]), 'activation', @reluActivation), ...
          reshapeLayer([4 4 2], 32), ...
          singleLayer(dense([3 32]), 'activation', @tanhActivation)});
C.NN_reshape = layer_case(net, randn(4, 4, 1, nEx));
net = NN({singleLayer(convFFT([4 4], [3 3 1 2]), 'activation', @reluActivation), ...
          reshapeLayer([4 4 2], 32, 'perm', [3 1 2]), ...
          singleLayer(dense([5 32]), 'activation', @tanhActivation)});
C.NN_reshape_perm = layer_case(net, randn(4, 4, 1, nEx));
end

function net = small_meganet()
% opening conv layer, a parabolic block, average pooling, a 1x1 conv layer
b1 = NN({singleLayer(convFFT([4 4], [3 3 1 2]), 'activation', @reluActivation, ...
                     'Bin', opCNNBias([4 4 2]), ...
                     'normLayer', tvNormLayer([4 4 2], 'isWeight', 1))});
b2 = ResNN(doubleSymLayer(convFFT([4 4], [3 3 2 2]), 'activation', @reluActivation, ...
                          'Bin', opCNNBias([4 4 2]), ...
                          'normLayer1', tvNormLayer([4 4 2], 'isWeight', 1)), 2, 0.5);
b3 = connector(opPool([4 4 2], 2));
b4 = NN({singleLayer(convFFT([2 2], [1 1 2 3]), 'activation', @tanhActivation, ...
                     'Bin', opCNNBias([2 2 3]))});
net = Meganet({b1, b2, b3, b4});
end

% ---------------------------------------------------------------- linear operators
function C = linop_cases()
seed(10);
nEx = 3;
A = opCNNBias([4 5 3]);
C.opCNNBias = op_case(A, randn(3, 1), randn(4, 5, 3, nEx));
A = opPool([4 4 2], 2);
C.opPool = op_case(A, randn(4, 4, 2, nEx), randn(2, 2, 2, nEx));
A = opTimeDer(12, 4, 0.5);
C.opTimeDer = op_case(A, randn(12, 1), randn(A.m, 1));
end

function S = op_case(A, x, z)
% A*x and A'*z (the adjoint applied to a batch where z has an example dimension)
S.x = x; S.z = z;
S.Ax = A * x;
S.ATz = A' * z;
end

% ---------------------------------------------------------------- losses
function C = loss_cases()
seed(6);
nf = 5; nc = 3; nEx = 6;
Y = randn(nf, nEx);
C0 = full(sparse(randi(nc, 1, nEx), 1:nEx, 1, nc, nEx));
C.softmaxLoss = loss_case(softmaxLoss(), randn(nc, nf + 1), Y, C0);
C.regressionLoss = loss_case(regressionLoss(), randn(nc, nf + 1), Y, randn(nc, nEx));
end

function S = loss_case(pLoss, W, Y, C)
[F, para, dWF, d2WF, dYF, d2YF] = getMisfit(pLoss, W(:), Y, C);
S.W = W; S.Y = Y; S.C = C;
S.F = F; S.para = para; S.dWF = dWF; S.dYF = dYF;
S.vW = randn(numel(W), 1); S.vY = randn(numel(Y), 1);
S.d2WF_vW = d2WF * S.vW;
S.d2YF_vY = d2YF * S.vY;
end

% ---------------------------------------------------------------- regularizers
function C = regularizer_cases()
seed(7);
nth = 6; nt = 4;
x = randn(nth * nt, 1); xref = randn(nth * nt, 1);
C.tikhonovReg = reg_case(tikhonovReg(opTimeDer(nth * nt, nt, 0.5), 0.3, xref), x);
C.tikhonovReg.xref = xref;
D = rand(nth * nt, 1);
C.l2Reg = reg_case(l2Reg(opTimeDer(nth * nt, nt, 0.5), [0.3; 0.2], xref, ...
                         'B2', opDiag(D)), x);
C.l2Reg.xref = xref; C.l2Reg.D = D;
C.l1Reg = reg_case(l1Reg(opTimeDer(nth * nt, nt, 0.5), [0.3; 0.2], xref, ...
                         'B2', opDiag(D)), x);
C.l1Reg.xref = xref; C.l1Reg.D = D;
% blockReg: a Tikhonov term on the first half, an l1 term on the second
R = blockReg({tikhonovReg(opTimeDer(nth * nt / 2, nt, 1), 0.1), ...
              l1Reg(opTimeDer(nth * nt / 2, nt, 1), [0.3; 0.2], [], 'B2', opEye(nth * nt / 2))});
C.blockReg = reg_case(R, x);
end

function S = reg_case(R, x)
[Sc, para, dS, d2S] = regularizer(R, x);
S.x = x; S.Sc = Sc; S.dS = dS;
S.v = randn(size(x));
S.d2S_v = d2S * S.v;
end

% ---------------------------------------------------------------- objective
function [net, pRegTh, pLoss, pRegW, Y, C, x0] = objective_setup(nEx)
% the small Meganet of network_cases, a softmax loss with 3 classes and
% Tikhonov regularizers (a diagonal one on theta, the identity on W)
net = small_meganet();
nth = nTheta(net);
nW = 3 * (prod(sizeFeatOut(net)) + 1);
pRegTh = tikhonovReg(opDiag(rand(nth, 1)), 1e-2);
pLoss = softmaxLoss();
pRegW = tikhonovReg(opEye(nW), 1e-3);
Y = randn(4, 4, 1, nEx);
C = full(sparse(randi(3, 1, nEx), 1:nEx, 1, 3, nEx));
x0 = [0.5 * randn(nth, 1); 0.1 * randn(nW, 1)];
end

function C = objective_cases()
seed(8);
nEx = 6;
[net, pRegTh, pLoss, pRegW, Y, Cl, x0] = objective_setup(nEx);
v = randn(size(x0));
base = struct('Y', Y, 'C', Cl, 'x', x0, 'v', v, 'DTheta', pRegTh.B.D);
% one chunk (batchSize >= nEx), all examples
C.oneChunk = objective_case(base, dnnBatchObjFctn(net, pRegTh, pLoss, pRegW, Y, Cl, ...
                                                'batchSize', 10), [], 10);
% two chunks (4 + 2 examples): value and gradient as with one chunk; Meganet.m's
% Gauss-Newton Hessian of theta comes from the last chunk only
C.twoChunks = objective_case(base, dnnBatchObjFctn(net, pRegTh, pLoss, pRegW, Y, Cl, ...
                                                 'batchSize', 4), [], 4);
% a subset of the examples
C.subset = objective_case(base, dnnBatchObjFctn(net, pRegTh, pLoss, pRegW, Y, Cl, ...
                                              'batchSize', 10), [2 5 1 6], 10);
end

function S = objective_case(S, obj, idx, batchSize)
[Jc, para, dJ, H] = eval(obj, S.x, idx);
S.idx = idx; S.batchSize = batchSize;
S.Jc = Jc; S.dJ = dJ; S.Hv = H * S.v;
S.F = para.F; S.hisLoss = para.hisLoss; S.Rth = para.Rth; S.RW = para.RW;
end

% ---------------------------------------------------------------- sgd
function C = sgd_cases()
seed(9);
nEx = 8;
[net, pRegTh, pLoss, pRegW, Y, Cl, x0] = objective_setup(nEx);
base = struct('Y', Y, 'C', Cl, 'x0', x0, 'DTheta', pRegTh.B.D);
C.momentum = sgd_case(base, net, pRegTh, pLoss, pRegW, ...
                      sgd('maxEpochs', 2, 'miniBatch', 4, 'learningRate', 0.05, ...
                          'momentum', 0.9, 'nesterov', false));
C.nesterov = sgd_case(base, net, pRegTh, pLoss, pRegW, ...
                      sgd('maxEpochs', 2, 'miniBatch', 4, 'learningRate', 0.05, ...
                          'momentum', 0.9, 'nesterov', true));
% one mini-batch per epoch: the epoch count equals the iteration count, so
% ADAM's bias correction is the same here and in meganet
C.adamOneBatch = sgd_case(base, net, pRegTh, pLoss, pRegW, ...
                          sgd('maxEpochs', 2, 'miniBatch', 8, 'learningRate', 0.01, ...
                              'momentum', 0.9, 'nesterov', false, 'ADAM', true));
% two mini-batches per epoch: Meganet.m corrects the bias with the epoch count
C.adamTwoBatches = sgd_case(base, net, pRegTh, pLoss, pRegW, ...
                            sgd('maxEpochs', 2, 'miniBatch', 4, 'learningRate', 0.01, ...
                                'momentum', 0.9, 'nesterov', false, 'ADAM', true));
end

function S = sgd_case(S, net, pRegTh, pLoss, pRegW, opt)
global MEGANET_PERM_QUEUE
nEx = size(S.Y, 4);
perms = zeros(opt.maxEpochs, nEx);
for e = 1:opt.maxEpochs
  perms(e, :) = builtin('randperm', nEx);
end
% sgd draws one permutation per epoch: hand it these (see shims/randperm.m)
MEGANET_PERM_QUEUE = num2cell(perms, 2)';
obj = dnnBatchObjFctn(net, pRegTh, pLoss, pRegW, S.Y, S.C, 'batchSize', 100);
[x, His] = solve(opt, obj, S.x0);
if ~isempty(MEGANET_PERM_QUEUE)
  error('sgd_case: %d queued permutations left unused', numel(MEGANET_PERM_QUEUE));
end
S.perms = perms;
S.x = x; S.his = His.his;
S.miniBatch = opt.miniBatch; S.learningRate = opt.learningRate;
S.momentum = opt.momentum; S.nesterov = opt.nesterov; S.ADAM = opt.ADAM;
S.maxEpochs = opt.maxEpochs;
end
