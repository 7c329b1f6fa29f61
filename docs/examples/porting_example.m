function porting_example(outFile)
% Builds a small network with Meganet.m, draws its weights, evaluates it on random
% images and saves weights, inputs, outputs and predicted class probabilities to
% outFile (the worked example of docs/porting.md loads them in meganet).
% Usage (Meganet.m's folders on the path; GNU Octave or MATLAB):
%   porting_example('docs/examples/porting_example.mat')
randn('seed', 1); rand('seed', 1);
nImg = [6 6]; nc = 4; nEx = 8; nClass = 3;
Bin = opCNNBias([nImg nc]);            % one bias per channel
blk1 = NN({singleLayer(convFFT(nImg, [3 3 1 nc]), 'activation', @reluActivation, 'Bin', Bin)});
blk2 = ResNN(doubleSymLayer(convFFT(nImg, [3 3 nc nc]), 'activation', @tanhActivation, ...
                            'Bin', Bin), 2, 0.1);
% 2 x 2 average pooling as a matrix on the column-major flattened 6 x 6 x nc features
A1 = kron(eye(nImg(1) / 2), [0.5 0.5]);
P = kron(eye(nc), kron(A1, A1));
nFeat = size(P, 1);
Pop = LinearOperator([3 3 nc], [nImg nc], @(X) P * reshape(X, size(P, 2), []), ...
                     @(X) P' * reshape(X, nFeat, []));
blk3 = connector(Pop);
net = Meganet({blk1, blk2, blk3});
theta = initTheta(net);
W = 0.1 * randn(nClass * (nFeat + 1), 1);
Y = randn(prod(nImg), nEx);
Z = forwardProp(net, theta, Y);
pLoss = softmaxLoss();
[~, Prob] = getLabels(pLoss, W, Z);
save('-v7', outFile, 'theta', 'W', 'Y', 'Z', 'Prob');
end
