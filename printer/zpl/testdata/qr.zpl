^XA
^FX qr: BQ with the FD error-correction/input-mode prefix, magnifications and manual byte mode.
^PW600^LL300
^FO10,10^BQN,2,4^FDQA,https://printdock.example/t/1Z999AA10123456784^FS
^FO250,10^BQN,2,8^FDHA,PRINTDOCK^FS
^FO400,200^BQN,2,3^FDMM,B0005hello^FS
^XZ
