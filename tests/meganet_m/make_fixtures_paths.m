function make_fixtures_paths(meganetPath)
% Put Meganet.m's folders and the shims on Octave's path.
here = fileparts(mfilename('fullpath'));
for d = {'', 'KernelTypes', 'layers', 'integrators', 'loss', 'regularization', ...
         'optimization', 'utils', 'matrixFree', 'activations'}
  addpath(fullfile(meganetPath, d{1}));
end
% the shims add what Octave lacks and shadow randperm (see shims/randperm.m)
addpath(fullfile(here, 'shims'));
end
