^XA
^FX label_home: LH moves every field origin; it persists until changed. LS shifts fields left.
^PW400^LL300
^FO0,0^GB20,20,20^FS
^LH100,50
^FO0,0^GB20,20,20^FS
^FO30,0^A0N,30,30^FDhome^FS
^FO0,40^GB200,3,3^FS
^LH200,150
^FO0,0^GB20,20,20^FS
^LH0,0
^LS-50
^FO0,250^GB20,20,20^FS
^LS0
^XZ
