^XA
^FX datamatrix: BX ECC 200 with module sizes and rotation.
^PW400^LL200
^FO10,10^BXN,6,200^FDPRINTDOCK-DM-0001^FS
^FO200,10^BXN,4,200^FDhttps://printdock.example/dm^FS
^FO300,120^BXR,3,200^FDROT^FS
^XZ
