^XA
^FX field_block: FB wrapping, line spacing, L/C/R/J justification, \& line breaks, overflow into the
^FX last line, hanging indent and FT with a block.
^PW600^LL600
^FO10,10^GB300,1,1^FS
^FO10,20^A0N,28,28^FB300,3,4,L^FDThe quick brown fox jumps over the lazy dog^FS
^FO10,130^A0N,28,28^FB300,3,4,C^FDThe quick brown fox jumps over the lazy dog^FS
^FO10,240^A0N,28,28^FB300,3,4,R^FDThe quick brown fox jumps over the lazy dog^FS
^FO10,350^A0N,28,28^FB300,3,0,J^FDThe quick brown fox jumps over the lazy dog^FS
^FO330,20^ADN,18,10^FB250,4,2,L^FDLine one\&Line two\&Line three^FS
^FO330,130^A0N,24,24^FB250,2,0,L^FDone two three four five six seven eight nine ten eleven^FS
^FO330,200^A0N,24,24^FB250,4,0,L,30^FDHanging indent wraps every line after the first one here^FS
^FT330,560^A0N,30,30^FB250,2,0,C^FDTypeset block\&bottom line^FS
^XZ
