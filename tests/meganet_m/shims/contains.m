function tf = contains(str, pattern)
% True where the character vector str contains pattern (Octave stand-in).
tf = ~isempty(strfind(str, pattern));
end
